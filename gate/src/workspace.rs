//! The packages to check, from `cargo metadata --no-deps` (so `--manifest-path`, workspace
//! members and `-p` mean what they mean to cargo).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::config::Config;
use crate::{Error, Options};

/// One package: where it lives and what cargo builds from it.
pub(crate) struct Package {
    pub(crate) dir: PathBuf,
    /// Every target's root file (lib, bins, tests, examples, benches, build script).
    pub(crate) roots: Vec<PathBuf>,
    pub(crate) config: Config,
}

pub(crate) struct Workspace {
    pub(crate) root: PathBuf,
    pub(crate) packages: Vec<Package>,
    pub(crate) config: Config,
}

impl Workspace {
    /// `path` relative to the workspace root, with `/` separators.
    pub(crate) fn relative(&self, path: &Path) -> String {
        let relative = path.strip_prefix(&self.root).unwrap_or(path);
        relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[derive(Deserialize)]
#[allow(clippy::struct_field_names, reason = "named as cargo names them")]
struct Metadata {
    packages: Vec<MetadataPackage>,
    workspace_members: Vec<String>,
    workspace_root: PathBuf,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct MetadataPackage {
    id: String,
    name: String,
    manifest_path: PathBuf,
    targets: Vec<Target>,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Target {
    src_path: PathBuf,
}

pub(crate) fn load(options: &Options) -> Result<Workspace, Error> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args([
        "metadata",
        "--no-deps",
        "--format-version",
        "1",
        "--offline",
    ]);
    if let Some(path) = &options.manifest_path {
        command.arg("--manifest-path").arg(path);
    }
    let output = command
        .output()
        .map_err(|error| Error(format!("could not run `cargo metadata`: {error}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error(format!(
            "`cargo metadata` failed: {}",
            stderr.trim().trim_start_matches("error: ")
        )));
    }
    let metadata: Metadata = serde_json::from_slice(&output.stdout)
        .map_err(|error| Error(format!("could not read `cargo metadata` output: {error}")))?;
    let config =
        Config::from_metadata(metadata.metadata.as_ref(), "[workspace.metadata.mapguard]")?;
    for wanted in &options.packages {
        if !metadata.packages.iter().any(|p| &p.name == wanted) {
            return Err(Error(format!(
                "package `{wanted}` is not a member of the workspace at {}",
                metadata.workspace_root.display()
            )));
        }
    }
    let mut packages = Vec::new();
    for package in metadata.packages {
        let selected = if options.packages.is_empty() {
            metadata.workspace_members.contains(&package.id)
        } else {
            options.packages.contains(&package.name)
        };
        if !selected {
            continue;
        }
        let table = format!("[package.metadata.mapguard] of `{}`", package.name);
        let config = Config::from_metadata(package.metadata.as_ref(), &table)?;
        let dir = package
            .manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        packages.push(Package {
            dir,
            roots: package.targets.into_iter().map(|t| t.src_path).collect(),
            config,
        });
    }
    Ok(Workspace {
        root: metadata.workspace_root,
        packages,
        config,
    })
}
