//! A client CLI run as a test drives it: its output (stdout and stderr together) collected as it
//! arrives, its stdin open for answers, optionally on a pseudo-terminal (util-linux `script`, for
//! clients that refuse to log in without one), every wait bounded. Dropping it kills its process
//! group, and each failure message carries everything it printed.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Shared = Arc<Mutex<Vec<u8>>>;
type Stream = Box<dyn Read + Send>;

pub struct Session {
    what: String,
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<Mutex<Vec<u8>>>,
    stdout: Arc<Mutex<Vec<u8>>>,
}

impl Session {
    /// Starts `command` (in a process group of its own); `what` names it in failure messages.
    pub fn spawn(mut command: Command, what: &str) -> Self {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {what}: {err}"));
        let output = Arc::<Mutex<Vec<u8>>>::default();
        let stdout_only = Arc::<Mutex<Vec<u8>>>::default();
        let streams: [(Option<Stream>, Option<Shared>); 2] = [
            (
                child.stdout.take().map(|s| Box::new(s) as Stream),
                Some(Arc::clone(&stdout_only)),
            ),
            (child.stderr.take().map(|s| Box::new(s) as Stream), None),
        ];
        for (stream, also) in streams {
            let Some(mut stream) = stream else { continue };
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                let mut buffer = [0u8; 8192];
                while let Ok(read) = stream.read(&mut buffer) {
                    if read == 0 {
                        break;
                    }
                    output.lock().unwrap().extend_from_slice(&buffer[..read]);
                    if let Some(also) = &also {
                        also.lock().unwrap().extend_from_slice(&buffer[..read]);
                    }
                }
            });
        }
        Self {
            what: what.to_owned(),
            stdin: child.stdin.take(),
            child,
            output,
            stdout: stdout_only,
        }
    }

    /// What it printed so far, terminal escapes removed.
    pub fn output(&self) -> String {
        plain_text(&String::from_utf8_lossy(&self.output.lock().unwrap()))
    }

    /// What it printed on stdout alone, as is.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// Waits until `found` picks something from its stdout lines; panics with the whole output
    /// if it exits first or `timeout` passes.
    pub fn wait_for_line<T>(
        &mut self,
        mut found: impl FnMut(&str) -> Option<T>,
        what: &str,
        timeout: Duration,
    ) -> T {
        let started = Instant::now();
        loop {
            if let Some(value) = self.stdout().lines().find_map(&mut found) {
                return value;
            }
            let exited = matches!(self.child.try_wait(), Ok(Some(_)));
            if exited || started.elapsed() > timeout {
                if exited {
                    std::thread::sleep(Duration::from_millis(300));
                    if let Some(value) = self.stdout().lines().find_map(&mut found) {
                        return value;
                    }
                }
                panic!(
                    "{} {} before {what}:\n{}",
                    self.what,
                    if exited { "exited" } else { "timed out" },
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until its output contains `needle`; panics with the output if it exits first or
    /// `timeout` passes.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) {
        self.wait_for_nth(needle, 1, timeout);
    }

    /// Waits until its output contains `needle` `n` times (a question asked again, say).
    pub fn wait_for_nth(&mut self, needle: &str, n: usize, timeout: Duration) {
        let started = Instant::now();
        loop {
            if self.output().matches(needle).count() >= n {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Its last words may still be in the pipe.
                std::thread::sleep(Duration::from_millis(300));
                if self.output().matches(needle).count() >= n {
                    return;
                }
                panic!(
                    "{} exited ({status}) before printing {needle:?} (#{n}):\n{}",
                    self.what,
                    self.output()
                );
            }
            if started.elapsed() > timeout {
                panic!(
                    "{} did not print {needle:?} (#{n}) within {} s:\n{}",
                    self.what,
                    timeout.as_secs(),
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Types `text` into it.
    pub fn send(&mut self, text: &str) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = stdin.write_all(text.as_bytes());
            let _ = stdin.flush();
        }
    }

    /// Closes its stdin.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for it to exit; None if `timeout` passed first (it is killed then).
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(200));
                return Some(status);
            }
            if started.elapsed() > timeout {
                self.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for it to exit (None if `timeout` passed first: it is killed then) and returns
    /// that with what it printed; the session is over.
    pub fn finish(mut self, timeout: Duration) -> (Option<ExitStatus>, String) {
        let status = self.wait(timeout);
        (status, self.output())
    }

    /// Waits for it to exit and returns what it printed; panics (with that) unless it exited 0
    /// within `timeout`.
    pub fn success(mut self, timeout: Duration) -> String {
        match self.wait(timeout) {
            Some(status) if status.success() => self.output(),
            Some(status) => panic!("{} failed ({status}):\n{}", self.what, self.output()),
            None => panic!(
                "{} did not finish within {} s:\n{}",
                self.what,
                timeout.as_secs(),
                self.output()
            ),
        }
    }

    fn kill(&mut self) {
        // The process group first: what it started in its group goes with it.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).output();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stdin = None;
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            self.kill();
        }
    }
}

/// `args` run on a pseudo-terminal of 200 × 50 by util-linux `script` (its exit status is the
/// program's), as a shell line.
pub fn on_terminal(args: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = args.iter().map(|arg| shell_quote(arg)).collect();
    vec![
        "-qfec".to_owned(),
        format!(
            "stty cols 200 rows 50 2>/dev/null; exec {}",
            quoted.join(" ")
        ),
        "/dev/null".to_owned(),
    ]
}

fn shell_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

/// `text` without terminal escape sequences (CSI, OSC) and carriage returns.
pub fn plain_text(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' => {}
            c => plain.push(c),
        }
    }
    plain
}
