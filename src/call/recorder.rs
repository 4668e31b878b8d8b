//! Caller-audio recording: the inbound μ-law track decoded to an 8 kHz mono 16-bit WAV
//! per call, named after the call SID. The header is brought up to date after every
//! second of audio, so a process that dies (even `kill -9`) leaves a playable file
//! that lacks at most its last second.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Writes one call's caller audio.
pub struct Recorder {
    path: PathBuf,
    writer: hound::WavWriter<BufWriter<File>>,
    /// Samples written since the header was last brought up to date.
    unflushed: usize,
}

/// Samples (8 kHz) between header updates: one second.
const FLUSH_EVERY: usize = 8000;

impl Recorder {
    /// Create `<dir>/<call_sid>.wav` (the SID is sanitised to a safe file name).
    pub fn create(dir: &Path, call_sid: &str) -> Result<Self, hound::Error> {
        std::fs::create_dir_all(dir)?;
        let safe: String = call_sid
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(64)
            .collect();
        let name = if safe.is_empty() {
            "call".to_string()
        } else {
            safe
        };
        let path = dir.join(format!("{name}.wav"));
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec)?;
        // A valid (empty) file from the start.
        writer.flush()?;
        Ok(Self {
            writer,
            path,
            unflushed: 0,
        })
    }

    /// Where the recording is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append PCM samples.
    pub fn write(&mut self, pcm: &[i16]) -> Result<(), hound::Error> {
        let mut w = self.writer.get_i16_writer(pcm.len() as u32);
        for s in pcm {
            w.write_sample(*s);
        }
        w.flush()?;
        self.unflushed += pcm.len();
        if self.unflushed >= FLUSH_EVERY {
            // Writes the buffered samples and the header's sizes.
            self.writer.flush()?;
            self.unflushed = 0;
        }
        Ok(())
    }

    /// Finalise the WAV header; returns the file's path.
    pub fn finish(self) -> Result<PathBuf, hound::Error> {
        self.writer.finalize()?;
        Ok(self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_readable_wav_with_a_safe_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Recorder::create(dir.path(), "CA../../etc").unwrap();
        r.write(&[0, 100, -100]).unwrap();
        r.write(&[5; 160]).unwrap();
        let path = r.finish().unwrap();
        assert_eq!(path.file_name().unwrap(), "CAetc.wav");
        let reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.spec().sample_rate, 8000);
        assert_eq!(reader.len(), 163);
    }

    #[test]
    fn an_unfinished_recording_is_playable_up_to_its_last_second() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Recorder::create(dir.path(), "CAcrash").unwrap();
        let path = r.path().to_path_buf();
        assert_eq!(
            hound::WavReader::open(&path).unwrap().len(),
            0,
            "valid from the start"
        );
        for _ in 0..125 {
            r.write(&[7; 160]).unwrap(); // 2.5 s in 20 ms frames
        }
        // The process dies here: nothing finalises the file.
        std::mem::forget(r);
        let reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.len(), 16_000, "two whole seconds");
        assert_eq!(
            reader.into_samples::<i16>().filter_map(Result::ok).count(),
            16_000
        );
    }
}
