//! Tests for the CT2 → ggml converter on a synthetic miniature Whisper.

use std::collections::HashMap;
use std::io::{Cursor, Write};

use super::*;
use crate::speech::stt::whisper::ct2::f16_to_f32;

const D: usize = 4; // model width
const F: usize = 8; // ffn width

/// f16 bits for small integers (exact) — enough to tag every element.
fn f16_bits(v: f32) -> u16 {
    // v is an integer in [-2048, 2048]: exponent/mantissa by hand.
    if v == 0.0 {
        return 0;
    }
    let sign = if v < 0.0 { 0x8000 } else { 0 };
    let a = v.abs() as u32;
    let e = 31 - a.leading_zeros();
    let mant = ((a << (10 - e)) & 0x3ff) as u16;
    sign | (((e + 15) as u16) << 10) | mant
}

fn tensor(shape: &[usize], start: f32) -> Ct2Tensor {
    let n: usize = shape.iter().product();
    let data = (0..n)
        .flat_map(|i| f16_bits(start + i as f32).to_le_bytes())
        .collect();
    Ct2Tensor {
        shape: shape.to_vec(),
        dtype: Ct2Dtype::F16,
        data,
    }
}

fn scalar_i16(v: i16) -> Ct2Tensor {
    Ct2Tensor {
        shape: vec![],
        dtype: Ct2Dtype::I16,
        data: v.to_le_bytes().to_vec(),
    }
}

fn mini_model() -> Ct2Model {
    mini_model_with_vocab(7)
}

fn mini_model_with_vocab(n_vocab: usize) -> Ct2Model {
    let mut v = HashMap::new();
    let mut add = |name: &str, t: Ct2Tensor| {
        v.insert(name.to_string(), t);
    };
    for side in ["encoder", "decoder"] {
        add(&format!("{side}/num_heads"), scalar_i16(2));
        add(&format!("{side}/layer_norm/gamma"), tensor(&[D], 1.0));
        add(&format!("{side}/layer_norm/beta"), tensor(&[D], 0.0));
        let l = format!("{side}/layer_0");
        for ln in ["self_attention", "ffn"] {
            add(&format!("{l}/{ln}/layer_norm/gamma"), tensor(&[D], 1.0));
            add(&format!("{l}/{ln}/layer_norm/beta"), tensor(&[D], 0.0));
        }
        add(
            &format!("{l}/self_attention/linear_0/weight"),
            tensor(&[3 * D, D], 0.0),
        );
        add(
            &format!("{l}/self_attention/linear_0/bias"),
            tensor(&[3 * D], 100.0),
        );
        add(
            &format!("{l}/self_attention/linear_1/weight"),
            tensor(&[D, D], 0.0),
        );
        add(
            &format!("{l}/self_attention/linear_1/bias"),
            tensor(&[D], 0.0),
        );
        add(&format!("{l}/ffn/linear_0/weight"), tensor(&[F, D], 0.0));
        add(&format!("{l}/ffn/linear_0/bias"), tensor(&[F], 0.0));
        add(&format!("{l}/ffn/linear_1/weight"), tensor(&[D, F], 0.0));
        add(&format!("{l}/ffn/linear_1/bias"), tensor(&[D], 0.0));
    }
    let l = "decoder/layer_0/attention";
    add(&format!("{l}/layer_norm/gamma"), tensor(&[D], 1.0));
    add(&format!("{l}/layer_norm/beta"), tensor(&[D], 0.0));
    add(&format!("{l}/linear_0/weight"), tensor(&[D, D], 0.0));
    add(&format!("{l}/linear_0/bias"), tensor(&[D], 0.0));
    add(&format!("{l}/linear_1/weight"), tensor(&[2 * D, D], 0.0));
    add(&format!("{l}/linear_1/bias"), tensor(&[2 * D], 200.0));
    add(&format!("{l}/linear_2/weight"), tensor(&[D, D], 0.0));
    add(&format!("{l}/linear_2/bias"), tensor(&[D], 0.0));
    add("encoder/conv1/weight", tensor(&[D, 3, 3], 0.0));
    add("encoder/conv1/bias", tensor(&[D], 0.0));
    add("encoder/conv2/weight", tensor(&[D, D, 3], 0.0));
    add("encoder/conv2/bias", tensor(&[D], 0.0));
    add("encoder/position_encodings/encodings", tensor(&[6, D], 0.0));
    add("decoder/position_encodings/encodings", tensor(&[5, D], 0.0));
    // all zeros: a real-sized vocabulary would overflow the small-integer tagging
    add(
        "decoder/embeddings/weight",
        Ct2Tensor {
            shape: vec![n_vocab, D],
            dtype: Ct2Dtype::F16,
            data: vec![0; n_vocab * D * 2],
        },
    );
    Ct2Model {
        spec: "WhisperSpec".into(),
        revision: 3,
        variables: v,
        aliases: HashMap::new(),
    }
}

fn mel_npz() -> Vec<u8> {
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }\n";
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    npy.extend_from_slice(&(header.len() as u16).to_le_bytes());
    npy.extend_from_slice(header.as_bytes());
    for i in 0..6 {
        npy.extend_from_slice(&(i as f32).to_le_bytes());
    }
    let mut buf = Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut buf);
    w.start_file("mel_3.npy", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(&npy).unwrap();
    w.finish().unwrap();
    buf.into_inner()
}

/// A ggml tensor read back: dims (innermost first), type, values as f32.
type Parsed = HashMap<String, (Vec<usize>, i32, Vec<f32>)>;

/// Hyper-parameters, vocabulary (in file order) and tensors of a ggml file.
fn read_back(b: &[u8]) -> (Vec<i32>, Vec<Vec<u8>>, Parsed) {
    let mut p = 0;
    let i32_at = |p: &mut usize| {
        let v = i32::from_le_bytes(b[*p..*p + 4].try_into().unwrap());
        *p += 4;
        v
    };
    assert_eq!(i32_at(&mut p) as u32, GGML_MAGIC);
    let hp: Vec<i32> = (0..11).map(|_| i32_at(&mut p)).collect();
    let (r, c) = (i32_at(&mut p) as usize, i32_at(&mut p) as usize);
    p += r * c * 4;
    let n_tokens = i32_at(&mut p) as usize;
    let mut tokens = Vec::with_capacity(n_tokens);
    for _ in 0..n_tokens {
        let l = i32_at(&mut p) as usize;
        tokens.push(b[p..p + l].to_vec());
        p += l;
    }
    let mut out = HashMap::new();
    while p < b.len() {
        let nd = i32_at(&mut p) as usize;
        let nl = i32_at(&mut p) as usize;
        let ty = i32_at(&mut p);
        let dims: Vec<usize> = (0..nd).map(|_| i32_at(&mut p) as usize).collect();
        let name = String::from_utf8(b[p..p + nl].to_vec()).unwrap();
        p += nl;
        let n: usize = dims.iter().product();
        let vals: Vec<f32> = if ty == 0 {
            (0..n)
                .map(|i| f32::from_le_bytes(b[p + 4 * i..p + 4 * i + 4].try_into().unwrap()))
                .collect()
        } else {
            (0..n)
                .map(|i| f16_to_f32(u16::from_le_bytes([b[p + 2 * i], b[p + 2 * i + 1]])))
                .collect()
        };
        p += n * if ty == 0 { 4 } else { 2 };
        out.insert(name, (dims, ty, vals));
    }
    (hp, tokens, out)
}

#[test]
fn writes_whisper_cpp_layout_with_split_projections() {
    let tiktoken = "IQ== 1\nIg== 0\nIw== 2\n";
    let mut out = Vec::new();
    write_ggml(&mini_model(), &mel_npz(), tiktoken, &mut out).unwrap();
    let (hp, tokens, t) = read_back(&out);
    assert_eq!(hp, vec![7, 6, D as i32, 2, 1, 5, D as i32, 2, 1, 3, 1]);
    assert_eq!(tokens, vec![b"\"".to_vec(), b"!".to_vec(), b"#".to_vec()]);

    // self-attention: Q rows 0..D, K rows D..2D (no bias), V rows 2D..3D
    let q = &t["encoder.blocks.0.attn.query.weight"];
    assert_eq!((q.0.clone(), q.1), (vec![D, D], 1));
    assert_eq!(q.2[0], 0.0);
    assert_eq!(t["encoder.blocks.0.attn.key.weight"].2[0], (D * D) as f32);
    assert_eq!(
        t["encoder.blocks.0.attn.value.weight"].2[0],
        (2 * D * D) as f32
    );
    assert!(!t.contains_key("encoder.blocks.0.attn.key.bias"));
    assert_eq!(
        t["encoder.blocks.0.attn.value.bias"].2,
        vec![108.0, 109.0, 110.0, 111.0]
    );
    assert_eq!(t["encoder.blocks.0.attn.query.bias"].1, 0, "biases are f32");

    // cross-attention: K then V fused in linear_1
    assert_eq!(
        t["decoder.blocks.0.cross_attn.value.weight"].2[0],
        (D * D) as f32
    );
    assert_eq!(t["decoder.blocks.0.cross_attn.value.bias"].2[0], 204.0);
    assert!(!t.contains_key("decoder.blocks.0.cross_attn.key.bias"));
    assert!(t.contains_key("decoder.blocks.0.cross_attn.out.bias"));

    // conv biases are [n, 1] f32 (innermost dim 1); positional embeddings f32
    assert_eq!(t["encoder.conv1.bias"].0, vec![1, D]);
    assert_eq!(t["encoder.conv1.weight"].0, vec![3, 3, D]);
    assert_eq!(t["decoder.positional_embedding"].1, 0);
    assert_eq!(t["decoder.token_embedding.weight"].1, 1);
    assert_eq!(t["decoder.ln.weight"].2, vec![1.0, 2.0, 3.0, 4.0]);
    // one layer per side: encoder 5 + 15 + 2, decoder 2 + 24 + 2
    assert_eq!(t.len(), 5 + 15 + 2 + 2 + 24 + 2);
}

#[test]
fn tiktoken_is_ordered_by_rank_and_validated() {
    let toks = parse_tiktoken("IQ== 1\nIg== 0\n").unwrap();
    assert_eq!(toks, vec![b"\"".to_vec(), b"!".to_vec()]);
    assert!(parse_tiktoken("IQ== 0\nIg== 2\n").is_err());
    assert!(parse_tiktoken("not-base64! 0\n").is_err());
    // multilingual.tiktoken's last line: padding only = the empty token
    let toks = parse_tiktoken("IQ== 0\n= 1\n").unwrap();
    assert_eq!(toks, vec![b"!".to_vec(), Vec::new()]);
}

/// A tiktoken file of `n` distinct tokens ("t0", "t1", …), the last one empty when
/// `empty_last` (as in `multilingual.tiktoken`).
fn tiktoken_of(n: usize, empty_last: bool) -> String {
    use base64::Engine as _;
    (0..n)
        .map(|i| {
            let tok = if empty_last && i + 1 == n {
                "=".to_string()
            } else {
                base64::engine::general_purpose::STANDARD.encode(format!("t{i}"))
            };
            format!("{tok} {i}\n")
        })
        .collect()
}

#[test]
fn multilingual_vocabulary_is_written_as_whisper_cpp_expects() {
    // base: n_vocab 51865; the vocabulary is multilingual.tiktoken's 50257 ranks in
    // order, ending with the empty token, so whisper.cpp puts end-of-text at 50257,
    // start-of-transcript at 50258 and the languages after it.
    let mut out = Vec::new();
    let tiktoken = tiktoken_of(50_257, true);
    write_ggml(
        &mini_model_with_vocab(51_865),
        &mel_npz(),
        &tiktoken,
        &mut out,
    )
    .unwrap();
    let (hp, tokens, t) = read_back(&out);
    assert_eq!(hp[0], 51_865);
    assert_eq!(tokens.len(), 50_257);
    assert_eq!(tokens[0], b"t0");
    assert_eq!(tokens[50_255], b"t50255");
    assert!(tokens[50_256].is_empty());
    assert_eq!(t["decoder.token_embedding.weight"].0, vec![D, 51_865]);
    assert_eq!(text_tokens_for(51_865), Some(50_257));
    assert_eq!(text_tokens_for(51_864), Some(50_256));
    assert_eq!(text_tokens_for(7), None);
}

#[test]
fn tokenizer_of_the_wrong_kind_is_refused() {
    let refused = |model: Ct2Model, tokens: String| {
        write_ggml(&model, &mel_npz(), &tokens, &mut Vec::new())
            .unwrap_err()
            .to_string()
    };
    // gpt2.tiktoken (50256 tokens) for a multilingual model would shift every special token.
    let err = refused(mini_model_with_vocab(51_865), tiktoken_of(50_256, false));
    assert!(err.contains("multilingual.tiktoken"), "{err}");
    let err = refused(mini_model_with_vocab(51_864), tiktoken_of(50_257, true));
    assert!(err.contains("gpt2.tiktoken"), "{err}");
    // synthetic sizes: only "not more tokens than the model has"
    let err = refused(mini_model(), tiktoken_of(8, false));
    assert!(err.contains("more than n_vocab 7"), "{err}");
}

#[test]
fn missing_inputs_name_the_fetch_command() {
    let dir = tempfile::tempdir().unwrap();
    let err = ensure_ggml(dir.path(), WhisperModel::TinyEn)
        .unwrap_err()
        .to_string();
    assert!(err.contains("switchboard models fetch"), "{err}");
    assert!(err.contains("model.bin"), "{err}");
    // base: part 1 present, part 2 missing → part 2 is named
    let part1 = dir.path().join(paths::WHISPER_CT2_BASE_PARTS[0]);
    std::fs::create_dir_all(part1.parent().unwrap()).unwrap();
    std::fs::write(&part1, b"half").unwrap();
    let err = ensure_ggml(dir.path(), WhisperModel::Base)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("model.bin.part2") && err.contains("Whisper base"),
        "{err}"
    );
}

#[test]
fn parts_are_joined_in_order_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let parts: Vec<std::path::PathBuf> = ["a", "b"].iter().map(|n| dir.path().join(n)).collect();
    std::fs::write(&parts[0], b"hello ").unwrap();
    std::fs::write(&parts[1], b"world").unwrap();
    let sha = hex::encode(Sha256::digest(b"hello world"));
    assert_eq!(read_joined(&parts, Some(&sha)).unwrap(), b"hello world");
    assert_eq!(read_joined(&parts, None).unwrap(), b"hello world");
    let swapped = [parts[1].clone(), parts[0].clone()];
    let err = read_joined(&swapped, Some(&sha)).unwrap_err();
    assert!(
        matches!(err, ConvertError::Checksum { ref want, .. } if *want == sha),
        "{err}"
    );

    // ensure_ggml on base refuses halves that do not hash to the pinned digest,
    // and leaves no output behind.
    for (i, rel) in paths::WHISPER_CT2_BASE_PARTS.iter().enumerate() {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, format!("part{i}")).unwrap();
    }
    for rel in [
        paths::WHISPER_MEL_FILTERS,
        paths::WHISPER_MULTILINGUAL_TIKTOKEN,
    ] {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }
    let err = ensure_ggml(dir.path(), WhisperModel::Base)
        .unwrap_err()
        .to_string();
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(!ggml_path(dir.path(), WhisperModel::Base).exists());
}
