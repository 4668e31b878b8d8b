//! Call recording: an 8 kHz stereo 16-bit WAV per call, named after the call SID, with
//! the caller on the left channel and the bot on the right, as the caller heard it.
//!
//! The caller's track is the timeline: carriers stream inbound audio continuously,
//! 20 ms at a time, so each caller frame written takes the same number of samples
//! from the bot's queue (audio sent to the carrier, which plays it in order) or
//! silence when the bot is quiet. A `clear` (barge-in) drops the bot audio still
//! queued, which the caller never heard. Bot audio left at the end (a goodbye sent
//! after the caller's last frame) is appended against caller silence.
//!
//! The header is brought up to date after every second of audio, so a process that
//! dies (even `kill -9`) leaves a playable file that lacks at most its last second.

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Writes one call's recording.
pub struct Recorder {
    path: PathBuf,
    writer: hound::WavWriter<BufWriter<File>>,
    /// Sample frames written since the header was last brought up to date.
    unflushed: usize,
    /// Bot audio sent to the carrier and not yet placed on the timeline.
    bot: VecDeque<i16>,
}

/// Sample frames (8 kHz) between header updates: one second.
const FLUSH_EVERY: usize = 8000;
/// Most bot audio kept waiting for the caller's timeline (60 s at 8 kHz); a carrier
/// that stops streaming the caller does not make the recording grow in memory.
const MAX_BOT_QUEUE: usize = 60 * 8000;

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
            channels: 2,
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
            bot: VecDeque::new(),
        })
    }

    /// Where the recording is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append the caller's PCM (left channel), beside the bot audio due at the same
    /// time (right channel; silence when none is queued).
    pub fn write(&mut self, pcm: &[i16]) -> Result<(), hound::Error> {
        let mut w = self.writer.get_i16_writer(2 * pcm.len() as u32);
        for s in pcm {
            w.write_sample(*s);
            w.write_sample(self.bot.pop_front().unwrap_or(0));
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

    /// Bot audio sent to the carrier (played after what is already queued).
    pub fn play(&mut self, pcm: &[i16]) {
        let room = MAX_BOT_QUEUE.saturating_sub(self.bot.len());
        self.bot.extend(pcm.iter().take(room));
    }

    /// The carrier was told to clear: queued bot audio was never heard.
    pub fn clear_bot(&mut self) {
        self.bot.clear();
    }

    /// Append the bot audio still queued, finalise the WAV header; returns the file's
    /// path.
    pub fn finish(mut self) -> Result<PathBuf, hound::Error> {
        while !self.bot.is_empty() {
            let n = self.bot.len().min(FLUSH_EVERY);
            self.write(&vec![0; n])?;
        }
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
        assert_eq!(reader.spec().channels, 2);
        assert_eq!(reader.duration(), 163);
    }

    fn channels(path: &Path) -> (Vec<i16>, Vec<i16>) {
        let samples: Vec<i16> = hound::WavReader::open(path)
            .unwrap()
            .into_samples::<i16>()
            .map(Result::unwrap)
            .collect();
        let left = samples.iter().step_by(2).copied().collect();
        let right = samples.iter().skip(1).step_by(2).copied().collect();
        (left, right)
    }

    #[test]
    fn caller_left_bot_right_on_the_callers_timeline() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Recorder::create(dir.path(), "CAstereo").unwrap();
        r.write(&[1; 160]).unwrap(); // bot quiet: silence on the right
        r.play(&[9; 240]); // 30 ms of bot audio sent
        r.write(&[2; 160]).unwrap(); // the first 20 ms of it plays beside this frame
        r.write(&[3; 160]).unwrap(); // the last 10 ms, then silence
        let (left, right) = channels(&r.finish().unwrap());
        assert_eq!(left.len(), 480);
        assert_eq!(&left[..160], &[1; 160]);
        assert_eq!(&left[320..], &[3; 160]);
        assert_eq!(&right[..160], &[0; 160]);
        assert_eq!(&right[160..400], &[9; 240]);
        assert_eq!(&right[400..], &[0; 80]);
    }

    #[test]
    fn a_clear_drops_the_bot_audio_never_heard_and_a_late_goodbye_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Recorder::create(dir.path(), "CAclear").unwrap();
        r.play(&[5; 800]); // 100 ms queued
        r.write(&[1; 160]).unwrap(); // 20 ms of it heard
        r.clear_bot(); // barge-in: the other 80 ms never played
        r.write(&[1; 160]).unwrap();
        r.play(&[7; 320]); // a goodbye after the caller's last frame
        let (left, right) = channels(&r.finish().unwrap());
        assert_eq!(right.len(), 640);
        assert_eq!(&right[..160], &[5; 160]);
        assert_eq!(&right[160..320], &[0; 160]);
        assert_eq!(&right[320..], &[7; 320]);
        assert_eq!(&left[320..], &[0; 320], "caller silent during the goodbye");
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
        assert_eq!(reader.duration(), 16_000, "two whole seconds");
        assert_eq!(
            reader.into_samples::<i16>().filter_map(Result::ok).count(),
            32_000
        );
    }
}
