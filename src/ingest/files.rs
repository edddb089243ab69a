//! Finding input files and opening them as byte streams.
//!
//! Inputs are listed here rather than by the engine: DataFusion silently skips files with an
//! unexpected extension and nested folders, so "read nothing" must be caught before reading.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{data, usage};

/// The file formats the job reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated text, optionally gzip- or zstd-compressed.
    Csv(Compression),
    /// Apache Parquet.
    Parquet,
    /// Newline-delimited JSON objects.
    Ndjson,
}

/// Compression of a CSV file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain text.
    None,
    /// `.gz`.
    Gzip,
    /// `.zst`.
    Zstd,
}

/// Where an input's bytes come from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A file on disk.
    Path(PathBuf),
    /// The sample compiled into the binary.
    Bundled(&'static [u8]),
}

/// One input to read.
#[derive(Debug, Clone)]
pub struct Input {
    /// Name used in messages, rejects and the manifest.
    pub name: String,
    /// Where the bytes are.
    pub origin: Origin,
    /// How to parse them.
    pub format: Format,
}

/// The sample cases shipped with the binary, used when no input is given.
pub const BUNDLED_SAMPLE: &[u8] = include_bytes!("../../examples/sample/cases.csv");
/// Name of the bundled sample in messages and the manifest.
pub const BUNDLED_NAME: &str = "examples/sample/cases.csv (bundled)";

/// Recognises a supported input by its file name.
pub fn format_of(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let format = if name.ends_with(".csv") || name.ends_with(".txt") {
        Format::Csv(Compression::None)
    } else if name.ends_with(".csv.gz") {
        Format::Csv(Compression::Gzip)
    } else if name.ends_with(".csv.zst") || name.ends_with(".csv.zstd") {
        Format::Csv(Compression::Zstd)
    } else if name.ends_with(".parquet") || name.ends_with(".pq") {
        Format::Parquet
    } else if name.ends_with(".ndjson") || name.ends_with(".jsonl") || name.ends_with(".json") {
        Format::Ndjson
    } else {
        return None;
    };
    Some(format)
}

/// Expands files, folders (recursively) and globs into a sorted list of inputs.
pub fn list(paths: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    if paths.is_empty() {
        return Ok(vec![Input {
            name: BUNDLED_NAME.into(),
            origin: Origin::Bundled(BUNDLED_SAMPLE),
            format: Format::Csv(Compression::None),
        }]);
    }
    let mut found = Vec::new();
    for path in paths {
        let before = found.len();
        expand(path, &mut found)?;
        if found.len() == before {
            return Err(data(format!("input `{}` matches no file", path.display())));
        }
    }
    found.sort();
    found.dedup();
    found.into_iter().map(to_input).collect()
}

fn expand(path: &Path, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let text = path.to_string_lossy();
    if text.contains(['*', '?', '[']) {
        let options = glob::MatchOptions {
            require_literal_leading_dot: true,
            ..Default::default()
        };
        let matches = glob::glob_with(&text, options)
            .map_err(|e| usage(format!("input `{text}`: bad glob pattern: {e}")))?;
        for entry in matches {
            let entry = entry.map_err(|e| data(format!("input `{text}`: {e}")))?;
            if entry.is_dir() {
                walk(&entry, found)?;
            } else {
                found.push(entry);
            }
        }
    } else if path.is_dir() {
        walk(path, found)?;
    } else if path.is_file() {
        found.push(path.to_path_buf());
    } else {
        return Err(data(format!("input `{}` does not exist", path.display())));
    }
    Ok(())
}

/// Every file below a folder; hidden entries (`.name`) are skipped.
fn walk(folder: &Path, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(folder).map_err(|e| {
        data(format!(
            "cannot list input folder `{}`: {e}",
            folder.display()
        ))
    })?;
    for entry in entries {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, found)?;
        } else {
            found.push(path);
        }
    }
    Ok(())
}

fn to_input(path: PathBuf) -> anyhow::Result<Input> {
    let format = format_of(&path).ok_or_else(|| {
        data(format!(
            "input `{}` is not a supported file (.csv, .csv.gz, .csv.zst, .parquet, .ndjson, .jsonl, .json)",
            path.display()
        ))
    })?;
    Ok(Input {
        name: path.display().to_string(),
        origin: Origin::Path(path),
        format,
    })
}

impl Input {
    /// Opens the raw (still compressed) bytes.
    pub fn open_raw(&self) -> anyhow::Result<Box<dyn Read + Send>> {
        Ok(match &self.origin {
            Origin::Bundled(bytes) => Box::new(*bytes),
            Origin::Path(path) => Box::new(BufReader::with_capacity(
                1 << 20,
                File::open(path).map_err(|e| data(format!("cannot open `{}`: {e}", self.name)))?,
            )),
        })
    }
}

/// Wraps raw CSV bytes in the decompressor its extension asks for.
pub fn decompress<'a>(
    compression: Compression,
    raw: Box<dyn Read + Send + 'a>,
) -> anyhow::Result<Box<dyn Read + Send + 'a>> {
    Ok(match compression {
        Compression::None => raw,
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(raw)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(
            format_of(Path::new("a/B.CSV.GZ")),
            Some(Format::Csv(Compression::Gzip))
        );
        assert_eq!(format_of(Path::new("x.parquet")), Some(Format::Parquet));
        assert_eq!(format_of(Path::new("x.jsonl")), Some(Format::Ndjson));
        assert_eq!(format_of(Path::new("x.xlsx")), None);
    }

    #[test]
    fn folders_globs_and_misses() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("nested")).unwrap();
        std::fs::write(dir.path().join("a.csv"), "x").unwrap();
        std::fs::write(dir.path().join("nested/b.ndjson"), "x").unwrap();
        std::fs::write(dir.path().join(".hidden.csv"), "x").unwrap();
        let inputs = list(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(
            inputs.len(),
            2,
            "nested files are read, hidden ones are not"
        );
        assert_eq!(inputs[1].format, Format::Ndjson);
        let pattern = dir.path().join("*.csv");
        assert_eq!(list(&[pattern]).unwrap().len(), 1);
        let error = list(&[dir.path().join("*.parquet")]).unwrap_err();
        assert!(error.to_string().contains("matches no file"));
        std::fs::write(dir.path().join("notes.md"), "x").unwrap();
        let error = list(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(error.to_string().contains("not a supported file"));
    }
}
