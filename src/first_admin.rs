//! The first admin's one-time password, shown once and never logged: on a terminal it is
//! printed; otherwise (systemd, containers, anything that keeps stdout in a journal) it goes
//! to `<data_dir>/initial-admin-password` (mode 0600, readable only by the service's user and
//! root) and only that path is logged. The file is removed once that admin sets a password.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// File name inside the data directory.
pub const FILE: &str = "initial-admin-password";

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// Where the password went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    Terminal,
    File(PathBuf),
}

/// Shows the first admin's credentials: on the terminal if stdout is one, else in the file,
/// whose path (never the password) goes to the log stream (`json`: as a JSON line).
pub fn show(data_dir: &Path, email: &str, password: &str, json: bool) -> std::io::Result<Shown> {
    if std::io::stdout().is_terminal() {
        println!(
            "\nFirst admin created. Log in with\n  email:    {email}\n  password: {password}\nThis password is shown only once; change it in the web UI or with `alojamientos admin add {email}`.\n"
        );
        return Ok(Shown::Terminal);
    }
    let file = write(data_dir, email, password)?;
    // Absolute, so the path in the journal works from any directory.
    let path = std::path::absolute(&file)
        .unwrap_or_else(|_| file.clone())
        .display()
        .to_string();
    crate::telemetry::notice(
        json,
        "first admin created; its one-time password is in password_file (readable by this service's user and root only)",
        &[("email", email), ("password_file", &path)],
        || format!("First admin {email} created; its one-time password is in {path}"),
    );
    Ok(Shown::File(file))
}

/// Writes the credentials to the file (owner-only, replaced atomically).
pub fn write(data_dir: &Path, email: &str, password: &str) -> std::io::Result<PathBuf> {
    let target = path(data_dir);
    let text = format!("email: {email}\npassword: {password}\n");
    crate::control::write_owner_only(&target, text.as_bytes())?;
    Ok(target)
}

/// The password in the file, if it is `email`'s.
pub fn read(data_dir: &Path, email: &str) -> Option<String> {
    let text = std::fs::read_to_string(path(data_dir)).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
    };
    (field("email:")? == email).then(|| field("password:"))?
}

/// Removes the file once `email` has a password of their own.
pub fn forget(data_dir: &Path, email: &str) {
    if read(data_dir, email).is_some() {
        let _ = std::fs::remove_file(path(data_dir));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_file_is_owner_only_and_forgotten_for_its_admin_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let file = write(&dir, "a@x.com", "secret-one-time").unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(read(&dir, "a@x.com").as_deref(), Some("secret-one-time"));
        forget(&dir, "b@x.com");
        assert!(file.exists());
        forget(&dir, "a@x.com");
        assert!(!file.exists());
    }
}
