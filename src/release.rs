//! A release: a folder of report files that appears atomically (DESIGN §3).
//!
//! Files are written into `<out>/.staging/<name>-<pid>/`; when everything is written, the
//! folder moves to `<out>/.releases/<name>.<content hash>/` and the link `<out>/<name>` is
//! swapped to it with one `rename`, then `<out>/latest` likewise. A run killed at any moment
//! leaves the previous release and its link intact; leftovers are cleaned by the next run.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::error::JobError;
use crate::ingest::hex;

/// Name of the lock file in the output folder.
pub const LOCK_FILE: &str = ".lock";

/// Takes the output folder's lock, or fails at once with [`JobError::Locked`].
pub fn lock(out: &Path) -> anyhow::Result<File> {
    fs::create_dir_all(out)
        .with_context(|| format!("cannot create output folder `{}`", out.display()))?;
    let path = out.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open lock `{}`", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(JobError::Locked(path).into()),
        Err(fs::TryLockError::Error(e)) => {
            Err(anyhow::Error::new(e).context(format!("cannot lock `{}`", path.display())))
        }
    }
}

/// One file of a release with its size and checksum.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutputFile {
    /// Path inside the release.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256.
    pub sha256: String,
}

/// A release being written.
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    name: String,
    files: BTreeMap<String, OutputFile>,
}

impl Staging {
    /// Creates a fresh staging folder (removing leftovers of killed runs: we hold the lock).
    pub fn new(out: &Path, name: &str) -> anyhow::Result<Staging> {
        let staging_root = out.join(".staging");
        if staging_root.exists() {
            fs::remove_dir_all(&staging_root)
                .with_context(|| format!("cannot clean `{}`", staging_root.display()))?;
        }
        let dir = staging_root.join(format!("{name}-{}", std::process::id()));
        fs::create_dir_all(dir.join("tables"))
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        Ok(Staging {
            out: out.to_path_buf(),
            dir,
            name: name.to_string(),
            files: BTreeMap::new(),
        })
    }

    /// Writes one file of the release through `write` and records its checksum.
    pub fn write(
        &mut self,
        relative: &str,
        write: impl FnOnce(&mut BufWriter<File>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let path = self.dir.join(relative);
        let file = File::create(&path).with_context(|| format!("cannot create `{relative}`"))?;
        let mut writer = BufWriter::new(file);
        write(&mut writer).with_context(|| format!("writing `{relative}`"))?;
        writer.flush()?;
        writer.get_ref().sync_all()?;
        let bytes = fs::read(&path)?;
        self.files.insert(
            relative.to_string(),
            OutputFile {
                path: relative.to_string(),
                bytes: bytes.len() as u64,
                sha256: hex(&Sha256::digest(&bytes)),
            },
        );
        Ok(())
    }

    /// The files written so far, sorted by path.
    pub fn files(&self) -> Vec<OutputFile> {
        self.files.values().cloned().collect()
    }

    /// Writes `SHA256SUMS` (in `sha256sum -c` format) and publishes the release atomically.
    pub fn publish(mut self) -> anyhow::Result<PathBuf> {
        let sums: String = self
            .files
            .values()
            .map(|f| format!("{}  {}\n", f.sha256, f.path))
            .collect();
        self.write("SHA256SUMS", |out| Ok(out.write_all(sums.as_bytes())?))?;
        let digest = hex(&Sha256::digest(sums.as_bytes()));
        let releases = self.out.join(".releases");
        fs::create_dir_all(&releases)?;
        let folder = format!("{}.{}", self.name, &digest[..16]);
        let target = releases.join(&folder);
        if target.exists() {
            // Same inputs and parameters: the identical release is already there.
            fs::remove_dir_all(&self.dir)?;
        } else {
            fs::rename(&self.dir, &target)
                .with_context(|| format!("cannot move release to `{}`", target.display()))?;
        }
        let _ = fs::remove_dir(self.out.join(".staging"));
        sync_dir(&releases)?;
        let link = self.out.join(&self.name);
        let previous = swap_link(&link, &Path::new(".releases").join(&folder))?;
        swap_link(&self.out.join("latest"), Path::new(&self.name))?;
        if let Some(previous) = previous
            && previous != Path::new(".releases").join(&folder)
        {
            let _ = fs::remove_dir_all(self.out.join(previous));
        }
        Ok(link)
    }
}

/// Points `link` at `target` with one atomic rename; returns the old target.
fn swap_link(link: &Path, target: &Path) -> anyhow::Result<Option<PathBuf>> {
    let previous = match fs::symlink_metadata(link) {
        Ok(meta) if meta.file_type().is_symlink() => Some(fs::read_link(link)?),
        Ok(_) => anyhow::bail!(
            "`{}` exists and is not a release link; move it away",
            link.display()
        ),
        Err(_) => None,
    };
    let name = link.file_name().and_then(|n| n.to_str()).unwrap_or("link");
    let temporary = link.with_file_name(format!(".{name}.link"));
    let _ = fs::remove_file(&temporary);
    std::os::unix::fs::symlink(target, &temporary)?;
    fs::rename(&temporary, link)
        .with_context(|| format!("cannot update link `{}`", link.display()))?;
    if let Some(parent) = link.parent() {
        sync_dir(parent)?;
    }
    Ok(previous)
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Removes release folders that no link points to (left by a run killed after moving its
/// release but before swapping the link).
pub fn remove_orphans(out: &Path) -> anyhow::Result<()> {
    let releases = out.join(".releases");
    let Ok(entries) = fs::read_dir(&releases) else {
        return Ok(());
    };
    let mut linked = Vec::new();
    for entry in fs::read_dir(out)? {
        let path = entry?.path();
        if let Ok(target) = fs::read_link(&path) {
            linked.push(out.join(target));
        }
    }
    for entry in entries {
        let path = entry?.path();
        if !linked.contains(&path) {
            fs::remove_dir_all(&path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(out: &Path, content: &str) -> PathBuf {
        let mut staging = Staging::new(out, "2024-Q3").unwrap();
        staging
            .write("report.md", |w| Ok(w.write_all(content.as_bytes())?))
            .unwrap();
        staging.publish().unwrap()
    }

    #[test]
    fn publishing_replaces_atomically_and_cleans_up() {
        let out = tempfile::tempdir().unwrap();
        let link = release(out.path(), "first");
        assert_eq!(fs::read_to_string(link.join("report.md")).unwrap(), "first");
        let sums = fs::read_to_string(link.join("SHA256SUMS")).unwrap();
        assert!(sums.ends_with("  report.md\n"));
        release(out.path(), "second");
        assert_eq!(
            fs::read_to_string(out.path().join("latest/report.md")).unwrap(),
            "second"
        );
        assert_eq!(
            fs::read_dir(out.path().join(".releases")).unwrap().count(),
            1
        );
        release(out.path(), "second");
        assert_eq!(
            fs::read_dir(out.path().join(".releases")).unwrap().count(),
            1
        );
    }

    #[test]
    fn the_lock_is_exclusive_and_orphans_go() {
        let out = tempfile::tempdir().unwrap();
        let held = lock(out.path()).unwrap();
        let error = lock(out.path()).unwrap_err();
        assert_eq!(crate::error::exit_code(&error), crate::error::EXIT_LOCKED);
        drop(held);
        lock(out.path()).unwrap();
        release(out.path(), "kept");
        fs::create_dir_all(out.path().join(".releases/2024-Q3.orphan")).unwrap();
        remove_orphans(out.path()).unwrap();
        assert_eq!(
            fs::read_dir(out.path().join(".releases")).unwrap().count(),
            1
        );
    }
}
