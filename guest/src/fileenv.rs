//! `--file-env`: secrets from files, the Docker-secrets convention
//! (`POSTGRES_PASSWORD_FILE=/run/secrets/db`). Every `NAME_FILE=PATH`
//! variable becomes `NAME` holding PATH's content, for templates and for the
//! program, and `NAME_FILE` is removed from the program's environment.
//!
//! The secret never reaches `docker inspect` (the container's configuration
//! holds only the path) nor maestro-guest's own `/proc/1/environ` (the
//! kernel shows the environment the process was started with; `setenv`
//! writes elsewhere). Errors name the variable and the path, never content.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// Why a `NAME_FILE` variable could not be turned into `NAME`.
#[derive(Debug, thiserror::Error)]
pub enum FileEnvError {
    /// Both spellings are set: which one wins would be a guess.
    #[error(
        "{name} and {name}_FILE are both set (--file-env reads {name} from the file; unset one)"
    )]
    Both { name: String },
    /// The file is missing or unreadable.
    #[error("{name}_FILE: cannot read {}: {source}", path.display())]
    Read {
        name: String,
        path: PathBuf,
        source: io::Error,
    },
    /// A NUL byte cannot be part of an environment variable.
    #[error("{name}_FILE: {} contains a NUL byte, which an environment variable cannot hold", path.display())]
    Nul { name: String, path: PathBuf },
}

/// The `NAME_FILE` variables found at start-up, kept so that a reload can
/// read the files again.
#[derive(Debug, Default, Clone)]
pub struct FileEnv {
    /// `(NAME, PATH)` pairs, in environment order.
    pub files: Vec<(String, PathBuf)>,
}

impl FileEnv {
    /// Finds the `NAME_FILE` variables of `vars`; `NAME` must not be set too.
    pub fn scan(vars: &[(OsString, OsString)]) -> Result<FileEnv, FileEnvError> {
        let mut files = Vec::new();
        for (key, value) in vars {
            let Some(name) = key.to_str().and_then(|k| k.strip_suffix("_FILE")) else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            if vars
                .iter()
                .any(|(other, _)| other.as_bytes() == name.as_bytes())
            {
                return Err(FileEnvError::Both {
                    name: name.to_owned(),
                });
            }
            files.push((name.to_owned(), PathBuf::from(value)));
        }
        Ok(FileEnv { files })
    }

    /// Reads every file: `(NAME, content)` with one trailing newline removed.
    pub fn read(&self) -> Result<Vec<(String, Vec<u8>)>, FileEnvError> {
        self.files
            .iter()
            .map(|(name, path)| {
                let mut content = std::fs::read(path).map_err(|source| FileEnvError::Read {
                    name: name.clone(),
                    path: path.clone(),
                    source,
                })?;
                if content.contains(&0) {
                    return Err(FileEnvError::Nul {
                        name: name.clone(),
                        path: path.clone(),
                    });
                }
                if content.last() == Some(&b'\n') {
                    content.pop();
                }
                Ok((name.clone(), content))
            })
            .collect()
    }

    /// The values as template variables (lossy UTF-8, as the rest of `env`).
    pub fn template_vars(&self) -> Result<Vec<(String, String)>, FileEnvError> {
        Ok(self
            .read()?
            .into_iter()
            .map(|(name, content)| (name, String::from_utf8_lossy(&content).into_owned()))
            .collect())
    }
}

/// Applies `--file-env` to this process's environment, which the program
/// inherits: sets every `NAME`, removes every `NAME_FILE`. Nothing changes
/// when any file fails.
///
/// Must run before any thread is started (it calls `setenv`).
pub fn apply() -> Result<FileEnv, FileEnvError> {
    let vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let found = FileEnv::scan(&vars)?;
    let values = found.read()?;
    for (name, content) in values {
        let file_var = format!("{name}_FILE");
        // SAFETY: called at start-up while the process has a single thread
        // (before any wait thread, before the child), so nothing reads the
        // environment concurrently.
        unsafe {
            std::env::set_var(&name, OsString::from_vec(content));
            std::env::remove_var(OsStr::new(&file_var));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        list.iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    #[test]
    fn file_variables_are_found_and_read() {
        let dir = std::env::temp_dir().join(format!("fileenv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret = dir.join("secret");
        std::fs::write(&secret, "s3cret\n\n").unwrap();
        let path = secret.to_str().unwrap();
        let found = FileEnv::scan(&vars(&[
            ("DB_PASSWORD_FILE", path),
            ("_FILE", "x"),
            ("A", "b"),
        ]))
        .unwrap();
        assert_eq!(found.files.len(), 1);
        let read = found.read().unwrap();
        assert_eq!(read, [("DB_PASSWORD".to_owned(), b"s3cret\n".to_vec())]);

        let both = FileEnv::scan(&vars(&[("X_FILE", path), ("X", "y")])).unwrap_err();
        assert_eq!(
            both.to_string(),
            "X and X_FILE are both set (--file-env reads X from the file; unset one)"
        );

        let missing = FileEnv::scan(&vars(&[("TOKEN_FILE", "/nonexistent/t")]))
            .unwrap()
            .read()
            .unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("TOKEN_FILE: cannot read /nonexistent/t: "),
            "{missing}"
        );
        std::fs::write(&secret, "a\0b").unwrap();
        let nul = FileEnv::scan(&vars(&[("K_FILE", path)]))
            .unwrap()
            .read()
            .unwrap_err();
        assert!(nul.to_string().contains("NUL byte") && !nul.to_string().contains("a\0b"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
