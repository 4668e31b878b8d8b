//! Minimal reader for NumPy `.npz` archives (a zip of `.npy` files) holding
//! little-endian `f32`/`f64` arrays in C order — enough for Whisper's `mel_filters.npz`.

use std::io::{Cursor, Read};

use super::ConvertError;

/// A dense `f32` array with its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Read array `name` (without the `.npy` suffix) from npz bytes.
pub fn read_npz_array(npz: &[u8], name: &str) -> Result<NpyArray, ConvertError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(npz))
        .map_err(|e| ConvertError::Format(format!("npz is not a zip: {e}")))?;
    let entry = format!("{name}.npy");
    let mut file = archive
        .by_name(&entry)
        .map_err(|_| ConvertError::Format(format!("npz has no `{entry}`")))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    parse_npy(&bytes)
}

/// Parse one `.npy` file (format versions 1–3).
pub fn parse_npy(b: &[u8]) -> Result<NpyArray, ConvertError> {
    let bad = |m: &str| ConvertError::Format(format!("npy: {m}"));
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err(bad("bad magic"));
    }
    let (header_len, start) = match b[6] {
        1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
        2 | 3 => {
            if b.len() < 12 {
                return Err(bad("truncated header"));
            }
            (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
        }
        v => return Err(bad(&format!("unsupported version {v}"))),
    };
    let header = b
        .get(start..start + header_len)
        .ok_or_else(|| bad("truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header not text"))?;
    let descr = dict_value(header, "descr").ok_or_else(|| bad("no descr"))?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| bad("descr is not a string"))?;
    if dict_value(header, "fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(bad("fortran order not supported"));
    }
    let shape_txt = dict_value(header, "shape").ok_or_else(|| bad("no shape"))?;
    let shape_txt = shape_txt
        .split(')')
        .next()
        .unwrap_or("")
        .trim_start_matches('(');
    let shape = shape_txt
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad("bad shape")))
        .collect::<Result<Vec<_>, _>>()?;
    let n: usize = shape.iter().product();
    let body = &b[start + header_len..];
    let data: Vec<f32> = match descr {
        "<f4" => {
            if body.len() < n * 4 {
                return Err(bad("truncated data"));
            }
            body.chunks_exact(4)
                .take(n)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        }
        "<f8" => {
            if body.len() < n * 8 {
                return Err(bad("truncated data"));
            }
            body.chunks_exact(8)
                .take(n)
                .map(|c| {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(c);
                    f64::from_le_bytes(a) as f32
                })
                .collect()
        }
        other => return Err(bad(&format!("unsupported dtype {other}"))),
    };
    Ok(NpyArray { shape, data })
}

/// The text after `'key':` in a Python dict literal.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("'{key}':");
    let at = header.find(&pat)? + pat.len();
    Some(header[at..].trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n");
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn parses_f32_matrix() {
        let body: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = parse_npy(&npy("<f4", "(2, 3)", &body)).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data[5], 6.0);
    }

    #[test]
    fn rejects_truncated_and_foreign_data() {
        assert!(parse_npy(&npy("<f4", "(2, 3)", &[0; 8])).is_err());
        assert!(parse_npy(&npy("<i4", "(1,)", &[0; 4])).is_err());
        assert!(parse_npy(b"not numpy").is_err());
    }

    #[test]
    fn reads_array_from_zip() {
        use std::io::Write;
        let body: Vec<u8> = [0.5f32, 0.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            w.start_file("mel_80.npy", opts).unwrap();
            w.write_all(&npy("<f4", "(2,)", &body)).unwrap();
            w.finish().unwrap();
        }
        let a = read_npz_array(buf.get_ref(), "mel_80").unwrap();
        assert_eq!(a.data, vec![0.5, 0.25]);
        assert!(read_npz_array(buf.get_ref(), "mel_128").is_err());
    }
}
