//! Reader for CTranslate2 `model.bin` files (binary format version 6).
//!
//! Layout, all little-endian: `u32` format version, a string naming the spec
//! (`"WhisperSpec"`), `u32` spec revision, `u32` variable count, then per variable:
//! name string, `u8` rank, `rank × u32` dimensions, `u8` dtype, `u32` byte count
//! and the raw bytes. A trailing `u32` alias count and `(alias, target)` string
//! pairs follow. Strings are a `u16` length (including a terminating NUL) and bytes.
//! Dtype ids follow CTranslate2's `DataType` enum: f32, i8, i16, i32, f16, bf16.

use std::collections::HashMap;

use super::ConvertError;

/// Element type of a CT2 variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2Dtype {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl Ct2Dtype {
    fn from_id(id: u8) -> Result<Self, ConvertError> {
        Ok(match id {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::Bf16,
            other => {
                return Err(ConvertError::Format(format!(
                    "unknown CT2 dtype id {other}"
                )))
            }
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::Bf16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

/// One named tensor of a CT2 model.
#[derive(Debug, Clone)]
pub struct Ct2Tensor {
    pub shape: Vec<usize>,
    pub dtype: Ct2Dtype,
    pub data: Vec<u8>,
}

impl Ct2Tensor {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All values converted to `f32` (float tensors only).
    pub fn to_f32(&self) -> Result<Vec<f32>, ConvertError> {
        let chunks = self.data.chunks_exact(self.dtype.size());
        Ok(match self.dtype {
            Ct2Dtype::F32 => chunks
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Ct2Dtype::F16 => chunks
                .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            Ct2Dtype::Bf16 => chunks
                .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
                .collect(),
            other => {
                return Err(ConvertError::Format(format!(
                    "expected a float tensor, found {other:?}"
                )))
            }
        })
    }

    /// Scalar integer value (for spec attributes such as `num_heads`).
    pub fn scalar_int(&self) -> Result<i64, ConvertError> {
        let d = &self.data;
        let v = match (self.dtype, d.len()) {
            (Ct2Dtype::I8, 1) => d[0] as i8 as i64,
            (Ct2Dtype::I16, 2) => i16::from_le_bytes([d[0], d[1]]) as i64,
            (Ct2Dtype::I32, 4) => i32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64,
            _ => return Err(ConvertError::Format("not an integer scalar".into())),
        };
        Ok(v)
    }
}

/// IEEE 754 half → single precision.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let mant = (h & 0x3ff) as u32;
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // subnormal: m · 2^-24, exact in f32
            let v = m as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -v } else { v };
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// A parsed CT2 model: spec name, revision and named variables (aliases resolved).
#[derive(Debug)]
pub struct Ct2Model {
    pub spec: String,
    pub revision: u32,
    pub variables: HashMap<String, Ct2Tensor>,
    /// `alias → target` pairs (e.g. the tied output projection).
    pub aliases: HashMap<String, String>,
}

impl Ct2Model {
    /// Look a variable up by name, following aliases.
    pub fn get(&self, name: &str) -> Result<&Ct2Tensor, ConvertError> {
        let target = self.aliases.get(name).map(String::as_str).unwrap_or(name);
        self.variables
            .get(target)
            .ok_or_else(|| ConvertError::Format(format!("CT2 model has no variable `{name}`")))
    }

    /// Parse the bytes of a `model.bin`.
    pub fn parse(bytes: &[u8]) -> Result<Self, ConvertError> {
        let mut r = Reader { buf: bytes, pos: 0 };
        let version = r.u32()?;
        if version != 6 {
            return Err(ConvertError::Format(format!(
                "unsupported CT2 binary version {version} (expected 6)"
            )));
        }
        let spec = r.string()?;
        let revision = r.u32()?;
        let count = r.u32()? as usize;
        let mut variables = HashMap::with_capacity(count);
        for _ in 0..count {
            let name = r.string()?;
            let rank = r.u8()? as usize;
            let mut shape = Vec::with_capacity(rank);
            for _ in 0..rank {
                shape.push(r.u32()? as usize);
            }
            let dtype = Ct2Dtype::from_id(r.u8()?)?;
            let nbytes = r.u32()? as usize;
            let data = r.take(nbytes)?.to_vec();
            let elems: usize = shape.iter().product();
            if elems * dtype.size() != nbytes {
                return Err(ConvertError::Format(format!(
                    "variable `{name}`: {nbytes} bytes for shape {shape:?} of {dtype:?}"
                )));
            }
            variables.insert(name, Ct2Tensor { shape, dtype, data });
        }
        let mut aliases = HashMap::new();
        if r.pos < r.buf.len() {
            let n = r.u32()?;
            for _ in 0..n {
                let alias = r.string()?;
                let target = r.string()?;
                aliases.insert(alias, target);
            }
        }
        Ok(Self {
            spec,
            revision,
            variables,
            aliases,
        })
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ConvertError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| ConvertError::Format("CT2 model truncated".into()))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ConvertError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ConvertError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, ConvertError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String, ConvertError> {
        let n = self.u16()? as usize;
        let b = self.take(n)?;
        let b = b.strip_suffix(&[0]).unwrap_or(b);
        String::from_utf8(b.to_vec())
            .map_err(|_| ConvertError::Format("CT2 string is not UTF-8".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push_str(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    /// A two-variable model with one alias, built by hand.
    fn tiny_model() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&6u32.to_le_bytes());
        push_str(&mut b, "WhisperSpec");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        push_str(&mut b, "encoder/num_heads");
        b.push(0);
        b.push(2);
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&6i16.to_le_bytes());
        push_str(&mut b, "w");
        b.push(2);
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        b.push(4);
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&0x3c00u16.to_le_bytes()); // 1.0
        b.extend_from_slice(&0xc000u16.to_le_bytes()); // -2.0
        b.extend_from_slice(&1u32.to_le_bytes());
        push_str(&mut b, "alias");
        push_str(&mut b, "w");
        b
    }

    #[test]
    fn parses_variables_and_aliases() {
        let m = Ct2Model::parse(&tiny_model()).unwrap();
        assert_eq!(m.spec, "WhisperSpec");
        assert_eq!(m.revision, 3);
        assert_eq!(m.get("encoder/num_heads").unwrap().scalar_int().unwrap(), 6);
        let w = m.get("alias").unwrap();
        assert_eq!(w.shape, vec![1, 2]);
        assert_eq!(w.to_f32().unwrap(), vec![1.0, -2.0]);
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let b = tiny_model();
        for cut in [0, 3, 10, 30, b.len() - 3] {
            assert!(Ct2Model::parse(&b[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn half_conversion_matches_known_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x8000), -0.0);
        assert!(f16_to_f32(0x7c00).is_infinite());
    }
}
