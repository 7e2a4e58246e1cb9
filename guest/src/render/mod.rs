//! `maestro-guest render`: configuration files from templates and the
//! injected environment, written all-or-nothing, then optionally the
//! program, supervised as `run` does.

use maestro_guest::template as api;

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use maestro_guest::contract::GuestEnv;

use crate::cli::{RenderArgs, exit};
use crate::fileenv::{FileEnv, FileEnvError};

/// Why rendering failed; nothing was written when this is returned
/// (except for a failed rename, which names what was already in place).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A SRC argument is neither a directory nor `FILE:DEST`.
    #[error("{0}: not a directory; a single template is given as FILE:DEST")]
    BadSource(String),
    /// Reading a template or walking a directory failed.
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    /// A template failed to parse or render (undefined variable, guest
    /// function error, syntax error); the message names template and line.
    #[error("{0}")]
    Template(String),
    /// Writing an output (or its temporary file) failed.
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    /// A `--file-env` secret could not be read again (on reload).
    #[error("{0}")]
    FileEnv(FileEnvError),
}

/// One template and where its output goes.
#[derive(Debug)]
pub struct Job {
    /// The template file.
    pub source: PathBuf,
    /// The file it renders to.
    pub dest: PathBuf,
}

/// A rendered template, not yet written.
#[derive(Debug)]
pub struct Rendered {
    /// Where it goes.
    pub dest: PathBuf,
    /// The text.
    pub text: String,
    /// The template's permission bits, which the output keeps.
    pub mode: u32,
}

/// Entry point of `maestro-guest render`.
pub fn run(args: RenderArgs) -> ExitCode {
    let file_env = if args.supervise.file_env {
        match crate::fileenv::apply() {
            Ok(found) => found,
            Err(error) => return crate::init::fatal(&error.to_string()),
        }
    } else {
        FileEnv::default()
    };
    if let Err(code) = crate::wait::before_start(&args.supervise) {
        return code;
    }
    let result = render_sources(&args.sources, &args.to, &file_env).and_then(|rendered| {
        if args.check {
            for output in &rendered {
                println!("ok {} ({} bytes)", output.dest.display(), output.text.len());
            }
            Ok(())
        } else {
            write_all(&rendered).map(drop)
        }
    });
    if let Err(errors) = result {
        report(&errors);
        return ExitCode::from(exit::FAILURE);
    }
    if args.command.is_empty() || args.check {
        return ExitCode::SUCCESS;
    }
    let Some(signal) = args.reload_signal else {
        return crate::init::supervise(&args.command, &args.supervise, None);
    };
    // On SIGHUP: the same sources again (a directory may have new files),
    // the secret files read again; all-or-nothing as at start-up.
    let mut render = || match render_sources(&args.sources, &args.to, &file_env)
        .and_then(|rendered| write_all(&rendered))
    {
        Ok(changed) if changed.is_empty() => {
            eprintln!("maestro-guest: reload: no file changed");
            false
        }
        Ok(changed) => {
            let names: Vec<String> = changed.iter().map(|p| p.display().to_string()).collect();
            eprintln!(
                "maestro-guest: reload: {} changed; sending {}",
                names.join(", "),
                crate::init::signals::name(signal)
            );
            true
        }
        Err(errors) => {
            report(&errors);
            eprintln!(
                "maestro-guest: reload failed; the files and the program are left as they were"
            );
            false
        }
    };
    let reload = crate::init::Reload {
        signal,
        render: &mut render,
    };
    crate::init::supervise(&args.command, &args.supervise, Some(reload))
}

fn report(errors: &[RenderError]) {
    for error in errors {
        eprintln!("maestro-guest: {error}");
    }
}

/// Expands and renders every source with the current environment (plus
/// the `--file-env` secrets, read now).
fn render_sources(
    sources: &[String],
    to: &Path,
    file_env: &FileEnv,
) -> Result<Vec<Rendered>, Vec<RenderError>> {
    let secrets = file_env
        .template_vars()
        .map_err(|error| vec![RenderError::FileEnv(error)])?;
    let vars = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .chain(secrets);
    let guest = Arc::new(GuestEnv::from_vars(vars));
    jobs(sources, to).and_then(|jobs| render_all(&jobs, guest))
}

/// Expands the SRC arguments: each file of a directory goes to `to` plus
/// its relative path with a trailing `.j2` removed; `FILE:DEST` as given.
pub fn jobs(sources: &[String], to: &Path) -> Result<Vec<Job>, Vec<RenderError>> {
    let mut jobs = Vec::new();
    for source in sources {
        let path = Path::new(source);
        if path.is_dir() {
            walk(path, path, to, &mut jobs).map_err(|e| vec![e])?;
        } else if let Some((file, dest)) = source.split_once(':') {
            jobs.push(Job {
                source: PathBuf::from(file),
                dest: PathBuf::from(dest),
            });
        } else {
            return Err(vec![RenderError::BadSource(source.clone())]);
        }
    }
    Ok(jobs)
}

fn walk(root: &Path, dir: &Path, to: &Path, jobs: &mut Vec<Job>) -> Result<(), RenderError> {
    let read = |source| RenderError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut entries = fs::read_dir(dir)
        .map_err(read)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read)?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, to, jobs)?;
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let mut dest = to.join(relative);
        if let Some(stem) = dest
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".j2"))
            .map(str::to_owned)
        {
            dest.set_file_name(stem);
        }
        jobs.push(Job { source: path, dest });
    }
    Ok(())
}

/// Renders every job in memory; all failures are reported together.
pub fn render_all(jobs: &[Job], guest: Arc<GuestEnv>) -> Result<Vec<Rendered>, Vec<RenderError>> {
    let mut env = api::environment(guest);
    env.add_function("file", file);
    let mut rendered = Vec::new();
    let mut errors = Vec::new();
    for job in jobs {
        match render_one(&env, job) {
            Ok(output) => rendered.push(output),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(rendered)
    } else {
        Err(errors)
    }
}

/// `file('PATH')` in templates: a file's content (a secret, a fragment),
/// one trailing newline removed as for `--file-env`. Errors name the path.
fn file(path: String) -> Result<String, minijinja::Error> {
    match fs::read_to_string(&path) {
        Ok(mut text) => {
            if text.ends_with('\n') {
                text.pop();
            }
            Ok(text)
        }
        Err(error) => Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("file({path:?}): {error}"),
        )),
    }
}

fn render_one(env: &minijinja::Environment<'static>, job: &Job) -> Result<Rendered, RenderError> {
    let read = |source| RenderError::Read {
        path: job.source.clone(),
        source,
    };
    let source = fs::read_to_string(&job.source).map_err(read)?;
    let mode = fs::metadata(&job.source)
        .map_err(read)?
        .permissions()
        .mode()
        & 0o7777;
    let name = job.source.display().to_string();
    let text = env
        .template_from_named_str(&name, &source)
        .and_then(|template| template.render(()))
        .map_err(|error| RenderError::Template(error.to_string()))?;
    Ok(Rendered {
        dest: job.dest.clone(),
        text,
        mode,
    })
}

/// Writes every output that changed, all-or-nothing: all temporary files
/// first, each in its destination's directory (removed again, with the
/// directories made for them, if any fails), then one rename each. A
/// destination that already holds the same text with the same mode is left
/// alone (its mtime too). Returns the destinations written.
pub fn write_all(rendered: &[Rendered]) -> Result<Vec<PathBuf>, Vec<RenderError>> {
    let rendered: Vec<&Rendered> = rendered.iter().filter(|o| !is_current(o)).collect();
    let mut temps = Vec::new();
    let mut made_dirs = Vec::new();
    for output in rendered.iter().copied() {
        match write_temp(output, &mut made_dirs) {
            Ok(temp) => temps.push(temp),
            Err(error) => {
                undo(&temps, &made_dirs);
                return Err(vec![error]);
            }
        }
    }
    for (i, (temp, output)) in temps.iter().zip(&rendered).enumerate() {
        if let Err(source) = fs::rename(temp, &output.dest) {
            // Only a rename can fail here (a destination that became a directory, a
            // read-only mount): the files not renamed yet are left as they were.
            undo(&temps[i..], &[]);
            return Err(vec![RenderError::Write {
                path: output.dest.clone(),
                source,
            }]);
        }
    }
    Ok(rendered.iter().map(|o| o.dest.clone()).collect())
}

/// Whether `output.dest` is a regular file with exactly this text and mode.
fn is_current(output: &Rendered) -> bool {
    let Ok(meta) = fs::metadata(&output.dest) else {
        return false;
    };
    meta.is_file()
        && meta.permissions().mode() & 0o7777 == output.mode
        && meta.len() == output.text.len() as u64
        && fs::read(&output.dest).is_ok_and(|bytes| bytes == output.text.as_bytes())
}

/// Removes the temporary files and then the directories made for them (innermost
/// first; a directory that is not empty stays).
fn undo(temps: &[PathBuf], made_dirs: &[PathBuf]) {
    for temp in temps {
        let _ = fs::remove_file(temp);
    }
    for dir in made_dirs.iter().rev() {
        let _ = fs::remove_dir(dir);
    }
}

/// The directories `create_dir_all(dir)` would create, outermost first.
fn missing_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && fs::symlink_metadata(d).is_err())
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    missing
}

/// Writes `output` next to its destination, with its mode, and syncs it; the
/// directories it had to create are added to `made_dirs`.
fn write_temp(output: &Rendered, made_dirs: &mut Vec<PathBuf>) -> Result<PathBuf, RenderError> {
    let failed = |source| RenderError::Write {
        path: output.dest.clone(),
        source,
    };
    let dir = output
        .dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Found now, not at the rename, when other files may have been replaced already.
    if output.dest.is_dir() {
        return Err(failed(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory",
        )));
    }
    let missing = missing_dirs(dir);
    let created = fs::create_dir_all(dir);
    made_dirs.extend(missing);
    created.map_err(failed)?;
    let name = output
        .dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.maestro-tmp", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(output.mode)
        .open(&temp)
        .map_err(failed)?;
    let written = file
        .write_all(output.text.as_bytes())
        // The umask may have narrowed the mode given at creation.
        .and_then(|()| file.set_permissions(fs::Permissions::from_mode(output.mode)))
        .and_then(|()| file.sync_all());
    if let Err(source) = written {
        let _ = fs::remove_file(&temp);
        return Err(failed(source));
    }
    Ok(temp)
}
