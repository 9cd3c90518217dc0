//! Watching the records for changes, so that commands that must see the
//! working tree as it is (search, the pool) need not stat every file.
//!
//! `folio watch` runs a small resident process (like git's fsmonitor
//! daemon): it holds an inotify watch on every folder of `customers/` and
//! notes, for each record file that is created, written, renamed, deleted or
//! touched, the sequence number of that event. A command asks it, over a
//! local socket, what changed since a [`Token`] it was handed before; the
//! watcher first reads every event the kernel has queued (an edit that
//! finished before the question was asked is always among them: inotify
//! queues its event inside the system call), then answers with the files
//! and folders changed since, and a new token.
//!
//! A token names the watcher's *epoch* and a sequence number. The epoch is
//! new each time the watcher starts, and whenever it may have missed an
//! event (the kernel's queue overflowed, the records folder itself was
//! moved or deleted): a token of another epoch is answered with
//! [`Answer::Reset`], and the command falls back to its full scan, then
//! keeps the new token. Without a running watcher [`ask`] returns `None`
//! and every command works as before, by stat'ing every file.
//!
//! What inotify does not see, and so the watcher cannot report: writes
//! through a hard link or a bind mount outside the watched folders, writes
//! through `mmap`, and changes made on another machine to a network file
//! system. `folio index` (which always compares every file) catches those.
//!
//! The socket is a file named after the repository's canonical path, in a
//! folder of the user's own that no one else may enter:
//! `$XDG_RUNTIME_DIR/folio-watch/`, or `<temp dir>/folio-watch-<uid>/`
//! when that is not set. The folder is made with mode 0700, and before
//! every use it must be a real folder (not a symlink) owned by the user,
//! with no permissions for group or others; otherwise the watcher refuses
//! to start and commands do not ask it (another local user cannot take the
//! socket's name first, nor put a socket of theirs in its place). A client
//! also only believes a watcher of its own user.

use crate::repo::{is_record_name, is_walked_name as is_folder_name};
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::time::Duration;

/// A watcher's epoch and the sequence number of its last event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub epoch: String,
    pub seq: u64,
}

impl Token {
    /// `EPOCH SEQ`, as stored beside an index.
    pub fn to_line(&self) -> String {
        format!("{} {}\n", self.epoch, self.seq)
    }

    pub fn parse(s: &str) -> Option<Token> {
        let mut it = s.split_whitespace();
        let epoch = it.next()?;
        let seq = it.next()?.parse().ok()?;
        let ok = it.next().is_none()
            && !epoch.is_empty()
            && epoch.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| Token {
            epoch: epoch.to_string(),
            seq,
        })
    }

    /// The token stored in `path`, if it holds one.
    pub fn read(path: &Path) -> Option<Token> {
        Token::parse(&std::fs::read_to_string(path).ok()?)
    }
}

/// What the watcher says changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The files and folders (paths relative to the data root, under
    /// `customers/`) touched since the token asked about; a folder means
    /// "anything in or under it". The token covers everything up to now.
    Changed {
        token: Token,
        files: Vec<String>,
        folders: Vec<String>,
    },
    /// The token asked about is not of this epoch (or too much changed to
    /// list): compare everything, then keep `token`.
    Reset { token: Token },
}

impl Answer {
    pub fn token(&self) -> &Token {
        match self {
            Answer::Changed { token, .. } | Answer::Reset { token } => token,
        }
    }
}

/// A running watcher's state, for `folio watch --status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub pid: u32,
    pub epoch: String,
    pub seq: u64,
    /// Folders watched.
    pub folders: usize,
    /// Distinct paths noted as changed in this epoch.
    pub changed: usize,
    /// Questions answered since the watcher started.
    pub answered: u64,
}

/// Why the watcher cannot run.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("another folio watch is already running for this repository (pid {0})")]
    Running(String),
    // the source is shown after it by whoever prints the chain
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("watching files for changes needs Linux (inotify)")]
    Unsupported,
    #[error("will not put the watcher's socket in {dir}: {why}")]
    UnsafeDir { dir: String, why: String },
    /// A detached watcher ended before it answered: its own error, and its
    /// exit status.
    #[error("folio watch stopped at once: {why}")]
    Stopped { why: String, status: Option<i32> },
}

impl WatchError {
    /// What kind of failure this is (a stopped watcher's, from its exit
    /// status).
    pub fn kind(&self) -> crate::error::Kind {
        use crate::error::Kind;
        match self {
            WatchError::UnsafeDir { .. } | WatchError::Running(_) => Kind::Refused,
            WatchError::Unsupported => Kind::User,
            WatchError::Stopped { status, .. } => match status {
                Some(3) => Kind::Config,
                Some(4) => Kind::Refused,
                Some(2) => Kind::User,
                _ => Kind::Internal,
            },
            e => Kind::of(e),
        }
    }
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> WatchError {
    move |source| WatchError::Io {
        what: what.into(),
        source,
    }
}

/// Past this many changed paths an answer says [`Answer::Reset`]: a full
/// scan costs about as much as looking at that many files one by one.
pub const MAX_LISTED: usize = 20_000;

const WATCH_DIR: &str = "watch";
const LOCK: &str = "lock";

/// How long a client waits for the watcher before it scans by itself.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

/// The folder of this user's watcher sockets (see the module's
/// documentation).
#[cfg(target_os = "linux")]
fn socket_dir() -> std::path::PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        Some(d) => d.join("folio-watch"),
        None => std::env::temp_dir().join(format!("folio-watch-{}", uid())),
    }
}

/// Why `dir` is not a safe home for a socket: it must be a folder (not a
/// symlink), owned by this user, with no permissions for group or others.
/// With `create`, a missing folder is made (mode 0700).
#[cfg(target_os = "linux")]
fn private_dir(dir: &Path, create: bool) -> Result<(), WatchError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let refuse = |why: String| WatchError::UnsafeDir {
        dir: dir.display().to_string(),
        why,
    };
    let m = match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
            match std::fs::DirBuilder::new().mode(0o700).create(dir) {
                Ok(()) => {}
                // made by another folio just now: checked below
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(format!("cannot create {}", dir.display()))(e)),
            }
            std::fs::symlink_metadata(dir)
                .map_err(io_err(format!("cannot read {}", dir.display())))?
        }
        Err(e) => return Err(io_err(format!("cannot read {}", dir.display()))(e)),
        Ok(m) => m,
    };
    if !m.file_type().is_dir() {
        return Err(refuse("it is not a folder (a symlink or a file)".into()));
    }
    if m.uid() != uid() {
        return Err(refuse(format!(
            "it belongs to user {}, not to you (user {})",
            m.uid(),
            uid()
        )));
    }
    if m.mode() & 0o077 != 0 {
        return Err(refuse(format!(
            "its mode is {:04o}: other users may use it (it must be 0700)",
            m.mode() & 0o7777
        )));
    }
    Ok(())
}

/// The socket's path for the repository at `root`, in the private folder
/// (checked, and made with `create`).
#[cfg(target_os = "linux")]
fn socket_path(root: &Path, create: bool) -> Result<std::path::PathBuf, WatchError> {
    let canon = root
        .canonicalize()
        .map_err(io_err(format!("cannot read {}", root.display())))?;
    let h = crate::search::manifest::hash_bytes(canon.as_os_str().as_encoded_bytes());
    let dir = socket_dir();
    private_dir(&dir, create)?;
    Ok(dir.join(format!("{h:016x}.sock")))
}

#[cfg(unix)]
fn uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
#[cfg(not(unix))]
fn uid() -> u32 {
    0
}

#[cfg(target_os = "linux")]
fn connect(root: &Path) -> Option<std::os::unix::net::UnixStream> {
    use std::os::unix::net::UnixStream;
    // a socket in a folder others may use is not asked
    let path = socket_path(root, false).ok()?;
    let s = UnixStream::connect(path).ok()?;
    // only a watcher of our own user is believed
    if peer_uid(&s)? != uid() {
        return None;
    }
    s.set_read_timeout(Some(CLIENT_TIMEOUT)).ok()?;
    s.set_write_timeout(Some(CLIENT_TIMEOUT)).ok()?;
    Some(s)
}

#[cfg(not(target_os = "linux"))]
fn connect(_root: &Path) -> Option<std::os::unix::net::UnixStream> {
    None
}

#[cfg(target_os = "linux")]
fn peer_uid(s: &std::os::unix::net::UnixStream) -> Option<u32> {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: cred and len are valid for writes of the sizes given.
    let r = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    (r == 0).then_some(cred.uid)
}

/// Send one request line and read the answer's lines up to `end`.
fn request(root: &Path, line: &str) -> Option<Vec<String>> {
    let mut s = connect(root)?;
    s.write_all(line.as_bytes()).ok()?;
    s.write_all(b"\n").ok()?;
    let mut out = Vec::new();
    // lines end with `\n` only (a path's `\r` is escaped, never stripped)
    for l in BufReader::new(s).split(b'\n') {
        let l = String::from_utf8(l.ok()?).ok()?;
        if l == "end" {
            return Some(out);
        }
        out.push(l);
    }
    None // cut off: not an answer
}

/// A path on one line: `%`, and control characters such as a newline or a
/// carriage return that a file name may hold, as `%XX`.
fn escape(p: &str) -> std::borrow::Cow<'_, str> {
    if !p.bytes().any(|b| b == b'%' || b < 0x20 || b == 0x7f) {
        return std::borrow::Cow::Borrowed(p);
    }
    let mut out = String::with_capacity(p.len() + 8);
    for c in p.chars() {
        if c == '%' || (c as u32) < 0x20 || c == '\u{7f}' {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The path [`escape`] wrote; None if the line is not one it could write.
fn unescape(s: &str) -> Option<String> {
    if !s.contains('%') {
        return (!s.bytes().any(|b| b < 0x20 || b == 0x7f)).then(|| s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Ask the watcher of the repository at `root`, if one runs, what changed
/// since `since`. `None`: no watcher (or it did not answer in time).
pub fn ask(root: &Path, since: Option<&Token>) -> Option<Answer> {
    let line = match since {
        Some(t) => format!("sync {} {}", t.epoch, t.seq),
        None => "sync".to_string(),
    };
    parse_answer(&request(root, &line)?)
}

fn parse_answer(lines: &[String]) -> Option<Answer> {
    let (head, rest) = lines.split_first()?;
    let mut it = head.splitn(2, ' ');
    let kind = it.next()?;
    let token = Token::parse(it.next()?)?;
    match kind {
        "reset" => Some(Answer::Reset { token }),
        "changed" => {
            let (mut files, mut folders) = (Vec::new(), Vec::new());
            for l in rest {
                match l.split_once(' ') {
                    Some(("f", p)) => files.push(unescape(p)?),
                    Some(("d", p)) => folders.push(unescape(p)?),
                    _ => return None,
                }
            }
            Some(Answer::Changed {
                token,
                files,
                folders,
            })
        }
        _ => None,
    }
}

/// [`ask`]; when no watcher answers and `auto` is set (`[watch] auto` in
/// folio.toml), start one in the background first. A watcher that cannot
/// start only means the command compares every file, as without one.
pub fn ask_or_start(
    root: &Path,
    cache: &Path,
    since: Option<&Token>,
    auto: bool,
) -> Option<Answer> {
    match ask(root, since) {
        Some(a) => Some(a),
        None if auto && cfg!(target_os = "linux") => {
            spawn_detached(root, cache).ok()?;
            ask(root, since)
        }
        None => None,
    }
}

/// The running watcher's state, if one runs.
pub fn status(root: &Path) -> Option<Status> {
    let lines = request(root, "status")?;
    let l = lines.first()?;
    let mut it = l.split(' ');
    (it.next()? == "status").then_some(())?;
    Some(Status {
        pid: it.next()?.parse().ok()?,
        epoch: it.next()?.to_string(),
        seq: it.next()?.parse().ok()?,
        folders: it.next()?.parse().ok()?,
        changed: it.next()?.parse().ok()?,
        answered: it.next()?.parse().ok()?,
    })
}

/// Ask a running watcher to stop, and wait (up to 10 s) until it has
/// ended, so that a new one can start at once; true when one answered.
pub fn stop(root: &Path, cache: &Path) -> bool {
    if request(root, "stop").is_none() {
        return false;
    }
    let lock_path = cache.join(WATCH_DIR).join(LOCK);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        let free = std::fs::File::options()
            .read(true)
            .open(&lock_path)
            .map(|f| f.try_lock().is_ok())
            .unwrap_or(true);
        if free && connect(root).is_none() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// The changes the watcher has noted in one epoch.
#[derive(Debug, Default)]
struct Log {
    seq: u64,
    /// (path, is a folder) -> sequence number of its last event. A path
    /// seen as a file and as a folder has both entries.
    paths: HashMap<(String, bool), u64>,
}

impl Log {
    fn note(&mut self, path: String, folder: bool) {
        self.seq += 1;
        self.paths.insert((path, folder), self.seq);
    }

    /// The answer to a `sync` with `since` (None: no token).
    fn answer(&self, epoch: &str, since: Option<Token>) -> Vec<String> {
        let token = Token {
            epoch: epoch.to_string(),
            seq: self.seq,
        };
        let tok = format!("{} {}", token.epoch, token.seq);
        let Some(since) = since.filter(|t| t.epoch == epoch && t.seq <= self.seq) else {
            return vec![format!("reset {tok}")];
        };
        let mut files: Vec<(&str, bool)> = self
            .paths
            .iter()
            .filter(|(_, s)| **s > since.seq)
            .map(|((p, d), _)| (p.as_str(), *d))
            .collect();
        if files.len() > MAX_LISTED {
            return vec![format!("reset {tok}")];
        }
        files.sort_unstable();
        let mut out = Vec::with_capacity(files.len() + 1);
        out.push(format!("changed {tok}"));
        for (p, d) in files {
            out.push(format!("{} {}", if d { "d" } else { "f" }, escape(p)));
        }
        out
    }
}

/// What `folio watch` reports while it starts.
pub struct Started {
    pub folders: usize,
}

/// Watch the repository at `root` until asked to stop. `ready` is called
/// once every folder is watched and the socket answers.
#[cfg(target_os = "linux")]
pub fn run(root: &Path, cache: &Path, ready: impl FnOnce(&Started)) -> Result<(), WatchError> {
    use std::os::unix::net::{UnixListener, UnixStream};
    let dir = crate::repo::prepare_cache_dir(cache, WATCH_DIR).map_err(io_err(format!(
        "cannot create {}",
        cache.join(WATCH_DIR).display()
    )))?;
    let lock_path = dir.join(LOCK);
    let mut lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&lock_path)
        .map_err(io_err(format!("cannot open {}", lock_path.display())))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = lock.read_to_string(&mut pid);
            return Err(WatchError::Running(pid.trim().to_string()));
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(io_err(format!("cannot lock {}", lock_path.display()))(e));
        }
    }
    let _ = lock.set_len(0);
    let _ = writeln!(lock, "{}", std::process::id());

    let root = root
        .canonicalize()
        .map_err(io_err(format!("cannot read {}", root.display())))?;
    // like any daemon, hold no folder open as the working directory: the
    // root's deletion is reported only once nothing holds it
    let _ = std::env::set_current_dir("/");
    let mut w = inotify::Watches::new(&root).map_err(io_err("cannot start inotify"))?;
    w.watch_all().map_err(io_err("cannot watch the records"))?;

    let path = socket_path(&root, true)?;
    let open = || UnixListener::bind(&path);
    let listener = match open() {
        Ok(l) => l,
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
            if UnixStream::connect(&path).is_ok() {
                return Err(WatchError::Running("unknown".into()));
            }
            // left by a watcher that was killed (this one holds the
            // repository's watch lock, and the folder is ours alone)
            let _ = std::fs::remove_file(&path);
            open().map_err(io_err(format!("cannot open the socket {}", path.display())))?
        }
        Err(e) => {
            return Err(io_err(format!("cannot open the socket {}", path.display()))(e));
        }
    };
    listener
        .set_nonblocking(true)
        .map_err(io_err("cannot set up the socket"))?;
    ready(&Started {
        folders: w.folders(),
    });
    let r = serve(&mut w, &listener);
    drop(listener);
    let _ = std::fs::remove_file(&path);
    r
}

#[cfg(not(target_os = "linux"))]
pub fn run(_root: &Path, _cache: &Path, _ready: impl FnOnce(&Started)) -> Result<(), WatchError> {
    Err(WatchError::Unsupported)
}

#[cfg(target_os = "linux")]
fn serve(
    w: &mut inotify::Watches,
    listener: &std::os::unix::net::UnixListener,
) -> Result<(), WatchError> {
    use std::os::fd::AsRawFd;
    loop {
        let mut fds = [
            libc::pollfd {
                fd: w.fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: listener.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: fds is a valid array of two pollfd.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, ROOT_CHECK_MS) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(io_err("cannot wait for events")(e));
        }
        if fds[0].revents != 0 {
            w.drain().map_err(io_err("cannot read file events"))?;
        }
        if w.gone || !w.root_is_there() {
            return Ok(());
        }
        if fds[1].revents == 0 {
            continue;
        }
        // every client waiting now is answered
        loop {
            let stream = match listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            if handle(w, stream) == Some(Request::Stop) || w.gone {
                return Ok(());
            }
        }
    }
}

/// How often (ms) an idle watcher checks that its data root is still
/// there: the root's own deletion is reported only once no open file under
/// it is left, and the watcher holds its lock file open.
#[cfg(target_os = "linux")]
const ROOT_CHECK_MS: i32 = 1000;

#[derive(PartialEq, Eq)]
enum Request {
    Sync,
    Status,
    Stop,
}

/// Answer one client; a client that misbehaves is dropped.
#[cfg(target_os = "linux")]
fn handle(w: &mut inotify::Watches, stream: std::os::unix::net::UnixStream) -> Option<Request> {
    stream.set_nonblocking(false).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    stream
        .set_write_timeout(Some(Duration::from_millis(2000)))
        .ok()?;
    if peer_uid(&stream)? != uid() {
        return None;
    }
    let mut line = String::new();
    BufReader::new(&stream)
        .take(4096)
        .read_line(&mut line)
        .ok()?;
    let mut words = line.split_whitespace();
    let (req, lines) = match words.next()? {
        "sync" => {
            let since = match (words.next(), words.next()) {
                (Some(e), Some(s)) => Token::parse(&format!("{e} {s}")),
                _ => None,
            };
            // the events queued before this question are read first; a
            // watcher that failed to (re)watch its folders ends rather than
            // answer for folders it no longer watches
            if w.drain().is_err() {
                w.gone = true;
                return None;
            }
            w.answered += 1;
            let lines = if w.blind {
                vec![format!("reset {} {}", w.epoch, w.log.seq)]
            } else {
                w.log.answer(&w.epoch, since)
            };
            (Request::Sync, lines)
        }
        "status" => {
            if w.drain().is_err() {
                w.gone = true;
                return None;
            }
            let l = format!(
                "status {} {} {} {} {} {}",
                std::process::id(),
                w.epoch,
                w.log.seq,
                w.folders(),
                w.log.paths.len(),
                w.answered
            );
            (Request::Status, vec![l])
        }
        "stop" => (Request::Stop, vec!["stopping".to_string()]),
        _ => return None,
    };
    let mut out = String::new();
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str("end\n");
    let mut s = &stream;
    s.write_all(out.as_bytes()).ok()?;
    Some(req)
}

#[cfg(target_os = "linux")]
mod inotify {
    //! inotify through libc: one watch per folder of `customers/`, and one
    //! on the data root for `customers` itself appearing or going.
    use super::{Log, is_folder_name, is_record_name};
    use std::collections::HashMap;
    use std::ffi::CString;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};

    const DIR_MASK: u32 = libc::IN_MODIFY
        | libc::IN_ATTRIB
        | libc::IN_CLOSE_WRITE
        | libc::IN_CREATE
        | libc::IN_DELETE
        | libc::IN_MOVED_FROM
        | libc::IN_MOVED_TO
        | libc::IN_DELETE_SELF
        | libc::IN_MOVE_SELF
        | libc::IN_ONLYDIR
        | libc::IN_DONT_FOLLOW
        | libc::IN_EXCL_UNLINK;
    const ROOT_MASK: u32 = libc::IN_CREATE
        | libc::IN_DELETE
        | libc::IN_MOVED_FROM
        | libc::IN_MOVED_TO
        | libc::IN_DELETE_SELF
        | libc::IN_MOVE_SELF
        | libc::IN_ONLYDIR
        | libc::IN_DONT_FOLLOW;

    pub struct Watches {
        fd: OwnedFd,
        root: PathBuf,
        root_ino: u64,
        root_wd: i32,
        /// watch descriptor -> folder (relative to the data root)
        dirs: HashMap<i32, String>,
        pub epoch: String,
        pub log: Log,
        /// The data root itself was deleted or moved: the watcher ends
        /// (its socket is named after the root's path).
        pub gone: bool,
        /// `sync` questions answered.
        pub answered: u64,
        /// `customers` is a symlink: the scan follows it, inotify cannot
        /// watch through it, so every question is answered with a reset.
        pub blind: bool,
    }

    fn new_epoch() -> String {
        ulid::Ulid::new().to_string().to_lowercase()
    }

    impl Watches {
        pub fn new(root: &Path) -> io::Result<Watches> {
            // SAFETY: inotify_init1 has no preconditions.
            let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: fd is a fresh descriptor we own.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            Ok(Watches {
                fd,
                root: root.to_path_buf(),
                root_ino: {
                    use std::os::unix::fs::MetadataExt;
                    std::fs::metadata(root)?.ino()
                },
                root_wd: -1,
                dirs: HashMap::new(),
                epoch: new_epoch(),
                log: Log::default(),
                gone: false,
                answered: 0,
                blind: false,
            })
        }

        fn customers_is_link(&self) -> bool {
            std::fs::symlink_metadata(self.root.join(crate::repo::CUSTOMERS_DIR))
                .is_ok_and(|m| m.file_type().is_symlink())
        }

        /// The data root still exists, as the same folder.
        pub fn root_is_there(&self) -> bool {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(&self.root).is_ok_and(|m| m.ino() == self.root_ino)
        }

        pub fn fd(&self) -> RawFd {
            self.fd.as_raw_fd()
        }

        pub fn folders(&self) -> usize {
            self.dirs.len()
        }

        fn add(&mut self, abs: &Path, mask: u32) -> io::Result<Option<i32>> {
            let c = CString::new(abs.as_os_str().as_bytes())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
            // SAFETY: c is a valid C string; fd is our inotify descriptor.
            let wd = unsafe { libc::inotify_add_watch(self.fd(), c.as_ptr(), mask) };
            if wd < 0 {
                let e = io::Error::last_os_error();
                // gone, or not a folder (any more): nothing to watch
                return match e.raw_os_error() {
                    Some(libc::ENOENT) | Some(libc::ENOTDIR) => Ok(None),
                    _ => Err(e),
                };
            }
            Ok(Some(wd))
        }

        /// Watch the root and every folder under `customers/`.
        pub fn watch_all(&mut self) -> io::Result<()> {
            let root = self.root.clone();
            if let Some(wd) = self.add(&root, ROOT_MASK)? {
                self.root_wd = wd;
            }
            self.blind = self.customers_is_link();
            self.watch_tree(crate::repo::CUSTOMERS_DIR, None)
        }

        /// Watch the folder `rel` and every folder under it; with `note`,
        /// each folder found is noted as changed (it appeared after the
        /// last answer, so anything in it may be new).
        fn watch_tree(&mut self, rel: &str, note: Option<()>) -> io::Result<()> {
            let mut stack = vec![rel.to_string()];
            while let Some(rel) = stack.pop() {
                let abs = self.root.join(&rel);
                // the watch comes first, the listing after: a file created
                // in between is both listed and reported
                let Some(wd) = self.add(&abs, DIR_MASK)? else {
                    continue;
                };
                self.dirs.insert(wd, rel.clone());
                if note.is_some() {
                    self.log.note(rel.clone(), true);
                }
                let Ok(rd) = std::fs::read_dir(&abs) else {
                    continue;
                };
                for e in rd.flatten() {
                    let Ok(name) = e.file_name().into_string() else {
                        continue;
                    };
                    if is_folder_name(&name) && e.file_type().is_ok_and(|t| t.is_dir()) {
                        stack.push(format!("{rel}/{name}"));
                    }
                }
            }
            Ok(())
        }

        fn unwatch_under(&mut self, rel: &str) {
            let prefix = format!("{rel}/");
            let gone: Vec<i32> = self
                .dirs
                .iter()
                .filter(|(_, r)| *r == rel || r.starts_with(&prefix))
                .map(|(wd, _)| *wd)
                .collect();
            for wd in gone {
                self.dirs.remove(&wd);
                // SAFETY: removing a watch descriptor we added.
                unsafe { libc::inotify_rm_watch(self.fd(), wd) };
            }
        }

        /// Start a new epoch: every client scans in full once more.
        fn reset(&mut self) -> io::Result<()> {
            for wd in self.dirs.keys() {
                // SAFETY: removing watch descriptors we added.
                unsafe { libc::inotify_rm_watch(self.fd(), *wd) };
            }
            self.dirs.clear();
            self.epoch = new_epoch();
            self.log = Log::default();
            self.blind = self.customers_is_link();
            self.watch_tree(crate::repo::CUSTOMERS_DIR, None)
        }

        /// Read every queued event.
        pub fn drain(&mut self) -> io::Result<()> {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                // SAFETY: buf is valid for writes of its length.
                let n = unsafe { libc::read(self.fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    let e = io::Error::last_os_error();
                    match e.kind() {
                        io::ErrorKind::WouldBlock => return Ok(()),
                        io::ErrorKind::Interrupted => continue,
                        _ => return Err(e),
                    }
                }
                if n == 0 {
                    return Ok(());
                }
                let mut reset = false;
                let mut at = 0usize;
                let n = n as usize;
                const HEAD: usize = std::mem::size_of::<libc::inotify_event>();
                while at + HEAD <= n {
                    // SAFETY: the kernel wrote a whole event at `at`; read it
                    // unaligned from the byte buffer.
                    let ev: libc::inotify_event =
                        unsafe { std::ptr::read_unaligned(buf.as_ptr().add(at).cast()) };
                    let len = ev.len as usize;
                    let name_bytes = &buf[at + HEAD..(at + HEAD + len).min(n)];
                    let end = name_bytes.iter().position(|b| *b == 0).unwrap_or(len);
                    let name = std::str::from_utf8(&name_bytes[..end]).ok();
                    at += HEAD + len;
                    if self.event(ev.wd, ev.mask, name) {
                        reset = true;
                    }
                }
                if reset {
                    self.reset()?;
                }
            }
        }

        /// Note one event; true when the epoch must start anew.
        fn event(&mut self, wd: i32, mask: u32, name: Option<&str>) -> bool {
            if mask & libc::IN_Q_OVERFLOW != 0 {
                return true;
            }
            if wd == self.root_wd {
                if mask & (libc::IN_DELETE_SELF | libc::IN_MOVE_SELF | libc::IN_IGNORED) != 0 {
                    self.gone = true;
                    return false;
                }
                // `customers` itself created, deleted or moved
                return name == Some(crate::repo::CUSTOMERS_DIR);
            }
            let Some(rel) = self.dirs.get(&wd).cloned() else {
                return false;
            };
            if mask & libc::IN_IGNORED != 0 {
                self.dirs.remove(&wd);
                return rel == crate::repo::CUSTOMERS_DIR;
            }
            if mask & (libc::IN_DELETE_SELF | libc::IN_MOVE_SELF) != 0 {
                if rel == crate::repo::CUSTOMERS_DIR {
                    return true;
                }
                self.log.note(rel, true);
                return false;
            }
            let Some(name) = name else {
                // a name that is not UTF-8: the scan skips such files, but
                // the folder is looked at again to be sure
                self.log.note(rel, true);
                return false;
            };
            let path = format!("{rel}/{name}");
            if mask & libc::IN_ISDIR != 0 {
                if !is_folder_name(name) {
                    return false;
                }
                if mask & (libc::IN_CREATE | libc::IN_MOVED_TO) != 0 {
                    if self.watch_tree(&path, Some(())).is_err() {
                        return true;
                    }
                } else if mask & (libc::IN_DELETE | libc::IN_MOVED_FROM) != 0 {
                    self.unwatch_under(&path);
                    self.log.note(path, true);
                }
                return false;
            }
            if is_record_name(name) {
                self.log.note(path, false);
            }
            false
        }
    }
}

/// Start `folio watch` in the background for the repository at `root`
/// and wait until it answers; returns its pid.
pub fn spawn_detached(root: &Path, cache: &Path) -> Result<u32, WatchError> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().map_err(io_err("cannot find the folio program"))?;
    let dir = crate::repo::prepare_cache_dir(cache, WATCH_DIR).map_err(io_err(format!(
        "cannot create {}",
        cache.join(WATCH_DIR).display()
    )))?;
    let log_path = dir.join("log");
    let log = std::fs::File::create(&log_path)
        .map_err(io_err(format!("cannot write {}", log_path.display())))?;
    let root = root
        .canonicalize()
        .map_err(io_err(format!("cannot read {}", root.display())))?;
    let mut child = std::process::Command::new(exe)
        .arg("--repo")
        .arg(&root)
        .current_dir("/")
        .arg("watch")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(io_err("cannot start folio watch"))?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = status(&root) {
            return Ok(s.pid);
        }
        if let Ok(Some(exit)) = child.try_wait() {
            let why = std::fs::read_to_string(&log_path).unwrap_or_default();
            // the child's own `error:` line, without its prefix and hints
            let why = why
                .lines()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or(why.trim())
                .to_string();
            return Err(WatchError::Stopped {
                why: why.trim().to_string(),
                status: exit.code(),
            });
        }
        if std::time::Instant::now() > deadline {
            return Err(WatchError::Io {
                what: "folio watch did not answer within 30 s".into(),
                source: io::Error::from(io::ErrorKind::TimedOut),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Where the working tree's changes since HEAD are kept between commands.
const DIRTY_FILE: &str = "dirty";

/// The record files (relative to the data root, under `customers/`) whose
/// content in the working tree differs from HEAD, untracked and deleted
/// ones included, sorted: what `git status` of `customers/` lists (see
/// [`crate::git::GitRepo::changed_under`]), but without a stat of every
/// file when a watcher runs.
///
/// The list is kept in `.folio/watch/dirty` with the HEAD it is relative
/// to and the watcher's token for the moment before it was made. Next
/// time the watcher lists what changed since that token; those paths, the
/// paths changed between the kept HEAD and the current one, and the kept
/// list are each compared with HEAD (the file's git blob id against HEAD's
/// entry), and only the ones that differ are kept. Without a watcher, or
/// when it cannot vouch for the time since the token, git's status is
/// read as before (and kept for next time). Only worktree-versus-HEAD
/// differences count: a change staged and then undone in the file is not
/// listed.
pub fn records_changed_since_head(
    g: &crate::git::GitRepo,
    root: &Path,
    cache: &Path,
    auto: bool,
) -> Result<Vec<String>, crate::git::GitError> {
    let customers = crate::repo::CUSTOMERS_DIR;
    let file = cache.join(WATCH_DIR).join(DIRTY_FILE);
    let head = g.repo.head().ok().and_then(|h| h.target());
    let kept = Dirty::read(&file);
    // files git reads through filters (line endings, attributes) cannot be
    // compared by their raw bytes: git's status decides
    let answer = if filters_may_apply(g) {
        None
    } else {
        ask_or_start(root, cache, kept.as_ref().map(|k| &k.token), auto)
    };
    if let (
        Some(Answer::Changed {
            token,
            files,
            folders,
        }),
        Some(kept),
        Some(head),
    ) = (&answer, kept, head)
        && let Some(list) = update_dirty(g, root, &kept, head, files, folders)
    {
        let d = Dirty {
            token: token.clone(),
            head,
            paths: list,
        };
        if d.paths != kept.paths || d.token != kept.token || d.head != kept.head {
            d.write(cache);
        }
        return Ok(d.paths);
    }
    // the token is taken before git's status: what changes while it runs
    // is listed next time
    let list = g.changed_under(customers)?;
    if let (Some(a), Some(head)) = (answer, head) {
        Dirty {
            token: a.token().clone(),
            head,
            paths: list.clone(),
        }
        .write(cache);
    }
    Ok(list)
}

/// Whether git may read the records through a filter (`core.autocrlf`,
/// an attributes file), so that a file's raw bytes need not hash to its
/// blob even when git's status calls it unchanged.
fn filters_may_apply(g: &crate::git::GitRepo) -> bool {
    let repo = &g.repo;
    if let Ok(cfg) = repo.config() {
        let set = |k: &str| cfg.get_entry(k).is_ok();
        if cfg
            .get_bool("core.autocrlf")
            .unwrap_or(set("core.autocrlf"))
            || set("core.attributesFile")
            || set("core.eol")
        {
            return true;
        }
    }
    let Some(work) = repo.workdir() else {
        return true;
    };
    let mut places = vec![
        repo.path().join("info").join("attributes"),
        work.join(".gitattributes"),
    ];
    // the user's attributes file, where git looks without a setting
    match std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        Some(x) => places.push(Path::new(&x).join("git").join("attributes")),
        None => {
            if let Some(h) = std::env::var_os("HOME") {
                places.push(Path::new(&h).join(".config/git/attributes"));
            }
        }
    }
    // and every folder from the work tree down to the records
    let mut at = work.to_path_buf();
    for part in g.to_git(crate::repo::CUSTOMERS_DIR).split('/') {
        at.push(part);
        places.push(at.join(".gitattributes"));
    }
    places.iter().any(|p| p.exists())
}

/// A kept list of changed records.
struct Dirty {
    token: Token,
    head: git2::Oid,
    paths: Vec<String>,
}

impl Dirty {
    fn read(file: &Path) -> Option<Dirty> {
        let text = std::fs::read_to_string(file).ok()?;
        let mut lines = text.lines();
        let token = Token::parse(lines.next()?)?;
        let head = git2::Oid::from_str(lines.next()?).ok()?;
        let lines: Vec<&str> = lines.collect();
        // the file ends with a line `end`: a torn file is not believed
        let (end, lines) = lines.split_last()?;
        let paths = lines
            .iter()
            .map(|l| unescape(l))
            .collect::<Option<Vec<String>>>()?;
        (*end == "end").then_some(Dirty { token, head, paths })
    }

    /// Keep the list in `cache` (`.folio/watch/dirty`).
    fn write(&self, cache: &Path) {
        let mut out = self.token.to_line();
        out.push_str(&self.head.to_string());
        out.push('\n');
        for p in &self.paths {
            out.push_str(&escape(p));
            out.push('\n');
        }
        out.push_str("end\n");
        // a failure only costs git's status next time
        if let Ok(dir) = crate::repo::prepare_cache_dir(cache, WATCH_DIR) {
            let _ = crate::edit::write_atomic(&dir.join(DIRTY_FILE), out.as_bytes());
        }
    }
}

/// The kept list brought up to date, or None when it cannot be (the kept
/// HEAD is gone, a path cannot be listed): then git's status is read.
fn update_dirty(
    g: &crate::git::GitRepo,
    root: &Path,
    kept: &Dirty,
    head: git2::Oid,
    files: &[String],
    folders: &[String],
) -> Option<Vec<String>> {
    use std::collections::BTreeSet;
    let customers = crate::repo::CUSTOMERS_DIR;
    let record = crate::search::manifest::is_record_path;
    let repo = &g.repo;
    let new_tree = repo.find_commit(head).ok()?.tree().ok()?;
    let mut cand: BTreeSet<String> = kept.paths.iter().cloned().collect();
    cand.extend(files.iter().filter(|p| record(p)).cloned());
    let old_tree = if kept.head == head {
        None
    } else {
        Some(repo.find_commit(kept.head).ok()?.tree().ok()?)
    };
    if let Some(old) = &old_tree {
        // what the commits between the two HEADs changed
        let mut opts = git2::DiffOptions::new();
        opts.pathspec(g.to_git(customers));
        let diff = repo
            .diff_tree_to_tree(Some(old), Some(&new_tree), Some(&mut opts))
            .ok()?;
        cand.extend(g.paths_of(&diff));
    }
    for folder in folders {
        // everything in or under the folder, on disk and in both trees
        let abs = root.join(folder);
        if abs.is_dir() {
            for e in walkdir::WalkDir::new(&abs).follow_links(false) {
                let e = e.ok()?;
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .ok()?
                    .to_str()?
                    .replace('\\', "/");
                if e.file_type().is_file() && record(&rel) {
                    cand.insert(rel);
                }
            }
        }
        for t in std::iter::once(&new_tree).chain(old_tree.as_ref()) {
            let Ok(entry) = t.get_path(Path::new(&g.to_git(folder))) else {
                continue;
            };
            let Ok(sub) = entry.to_object(repo).and_then(|o| o.peel_to_tree()) else {
                continue;
            };
            let mut bad = false;
            let _ = sub.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
                if e.kind() == Some(git2::ObjectType::Blob) {
                    match e.name().ok() {
                        Some(n) => {
                            cand.insert(format!("{folder}/{dir}{n}"));
                        }
                        None => bad = true,
                    }
                }
                git2::TreeWalkResult::Ok
            });
            if bad {
                return None;
            }
        }
    }
    // keep the paths whose file differs from HEAD's
    let mut out = Vec::new();
    let mut lookup = crate::git::TreeLookup::new(repo, &new_tree);
    for p in cand {
        let in_head = lookup.blob(&g.to_git(&p));
        let abs = root.join(&p);
        let on_disk = match std::fs::symlink_metadata(&abs) {
            Ok(m) if m.file_type().is_symlink() => {
                // as git stores a link: the blob of its target's path
                let t = std::fs::read_link(&abs).ok()?;
                Some(
                    git2::Oid::hash_object(
                        git2::ObjectType::Blob,
                        t.as_os_str().as_encoded_bytes(),
                    )
                    .ok()?,
                )
            }
            Ok(m) if m.is_file() => {
                let b = crate::repo::read_file(&abs).ok()?;
                Some(git2::Oid::hash_object(git2::ObjectType::Blob, &b).ok()?)
            }
            Ok(_) => None,
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(_) => return None,
        };
        if in_head != on_disk {
            out.push(p);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_junk() {
        let t = Token {
            epoch: "01abc".into(),
            seq: 42,
        };
        assert_eq!(Token::parse(&t.to_line()), Some(t));
        assert_eq!(Token::parse("x"), None);
        assert_eq!(Token::parse("a b"), None);
        assert_eq!(Token::parse("a/b 1"), None);
        assert_eq!(Token::parse("a 1 2"), None);
    }

    #[test]
    fn log_answers_what_changed_since_a_token() {
        let mut log = Log::default();
        log.note("customers/DE/a.toml".into(), false);
        log.note("customers/DE/b.toml".into(), false);
        let t1 = Token {
            epoch: "e".into(),
            seq: log.seq,
        };
        log.note("customers/DE/a.toml".into(), false);
        log.note("customers/FR".into(), true);
        let ans = parse_answer(&log.answer("e", Some(t1.clone()))).unwrap();
        assert_eq!(
            ans,
            Answer::Changed {
                token: Token {
                    epoch: "e".into(),
                    seq: 4
                },
                files: vec!["customers/DE/a.toml".into()],
                folders: vec!["customers/FR".into()],
            }
        );
        // another epoch, no token, or a token from the future: reset
        for since in [
            None,
            Some(Token {
                epoch: "other".into(),
                seq: 1,
            }),
            Some(Token {
                epoch: "e".into(),
                seq: 99,
            }),
        ] {
            let a = parse_answer(&log.answer("e", since)).unwrap();
            assert!(matches!(a, Answer::Reset { .. }), "{a:?}");
        }
        // nothing since the last token
        let t2 = ans.token().clone();
        assert_eq!(
            parse_answer(&log.answer("e", Some(t2.clone()))).unwrap(),
            Answer::Changed {
                token: t2,
                files: vec![],
                folders: vec![]
            }
        );
    }

    #[test]
    fn paths_with_line_breaks_survive_a_line() {
        for p in [
            "customers/de/a.toml",
            "customers/x\r/z.toml",
            "customers/a\nd x/z.toml",
            "customers/100%/b%41.toml",
            "customers/\u{7f}/é.toml",
        ] {
            let e = escape(p);
            assert!(!e.bytes().any(|b| b < 0x20 || b == 0x7f), "{e:?}");
            assert_eq!(unescape(&e).as_deref(), Some(p));
        }
        assert_eq!(unescape("customers/a%2"), None);
        assert_eq!(unescape("customers/a\rb"), None);
    }

    #[test]
    fn a_path_seen_as_folder_and_as_file_is_listed_as_both() {
        let mut log = Log::default();
        log.note("customers/de/z.toml".into(), true);
        log.note("customers/de/z.toml".into(), false);
        let a = parse_answer(&log.answer(
            "e",
            Some(Token {
                epoch: "e".into(),
                seq: 0,
            }),
        ))
        .unwrap();
        assert_eq!(
            a,
            Answer::Changed {
                token: Token {
                    epoch: "e".into(),
                    seq: 2
                },
                files: vec!["customers/de/z.toml".into()],
                folders: vec!["customers/de/z.toml".into()],
            }
        );
    }

    #[test]
    fn record_and_folder_names() {
        assert!(is_record_name("Acme-Jo-DE.toml"));
        assert!(!is_record_name(".folio-tmp-x.toml"));
        assert!(!is_record_name("notes.txt"));
        assert!(is_folder_name("DE"));
        assert!(!is_folder_name(".git"));
    }
}
