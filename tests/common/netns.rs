//! A network namespace the test creates for clients that phone home: loopback only, with the
//! host's Keycloak and MCP server ports bridged in, so a client inside reaches those two and
//! nothing else. Each bridged port is a listener made inside the namespace (a socket stays in the
//! namespace it was created in) whose connections this process forwards to the same port on the
//! host's loopback; what clients send through it is kept, so a test can read their requests
//! (dynamic registration bodies, say) as Keycloak received them.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// Bytes kept of each connection's request side: enough for headers and a registration body.
const KEPT_PER_CONNECTION: usize = 64 * 1024;

pub struct NetNs {
    pub name: String,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl NetNs {
    /// `ip netns add` a namespace named after `label` and this process, its loopback up.
    pub fn create(label: &str) -> Self {
        let name = format!("kcdev-{label}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "delete", &name]).output();
        ip(&["netns", "add", &name]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        Self {
            name,
            requests: Arc::default(),
        }
    }

    /// Makes `127.0.0.1:port` (and `[::1]:port`) inside the namespace reach `127.0.0.1:port` on
    /// the host.
    pub fn bridge(&self, port: u16) {
        let listeners = self.listeners_inside(port);
        for listener in listeners {
            let requests = Arc::clone(&self.requests);
            std::thread::spawn(move || {
                for inside in listener.incoming().map_while(Result::ok) {
                    let requests = Arc::clone(&requests);
                    std::thread::spawn(move || forward(inside, port, &requests));
                }
            });
        }
    }

    fn listeners_inside(&self, port: u16) -> Vec<TcpListener> {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let namespace = File::open(&path).unwrap_or_else(|err| panic!("open {path}: {err}"));
            // SAFETY: setns on this short-lived thread only; it moves no memory.
            let entered = unsafe { libc::setns(namespace.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(
                entered,
                0,
                "setns into {path}: {}",
                std::io::Error::last_os_error()
            );
            let mut listeners = vec![
                TcpListener::bind(("127.0.0.1", port))
                    .unwrap_or_else(|err| panic!("bind 127.0.0.1:{port} in {path}: {err}")),
            ];
            // Clients that try ::1 first for `localhost` find the port there too.
            listeners.extend(TcpListener::bind(("::1", port)).ok());
            listeners
        })
        .join()
        .expect("the thread that binds inside the namespace")
    }

    /// Where the connections made from now on begin, for `requests_since`.
    pub fn mark(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// What each connection since `mark` sent through the bridges, as text (bodies included).
    pub fn requests_since(&self, mark: usize) -> Vec<String> {
        self.requests.lock().unwrap()[mark..]
            .iter()
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .collect()
    }

    /// `program` run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// SIGKILL to every process inside the namespace: whatever a client started and left behind
    /// (a fake browser, a relaunched child) goes with it.
    pub fn kill_everything(&self) {
        let Ok(output) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        else {
            return;
        };
        for pid in String::from_utf8_lossy(&output.stdout).split_whitespace() {
            let _ = Command::new("kill").args(["-KILL", pid]).output();
        }
    }

    /// Kills what runs inside and deletes the namespace.
    pub fn remove(&self) {
        self.kill_everything();
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .output();
    }
}

fn ip(args: &[&str]) {
    let output = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        output.status.success(),
        "ip {} failed (network namespaces need root): {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn forward(mut inside: TcpStream, port: u16, requests: &Arc<Mutex<Vec<Vec<u8>>>>) {
    let Ok(mut host) = TcpStream::connect(("127.0.0.1", port)) else {
        let _ = inside.shutdown(Shutdown::Both);
        return;
    };
    let (Ok(mut inside_reader), Ok(mut host_writer)) = (inside.try_clone(), host.try_clone())
    else {
        return;
    };
    let index = {
        let mut requests = requests.lock().unwrap();
        requests.push(Vec::new());
        requests.len() - 1
    };
    let requests = Arc::clone(requests);
    let upstream = std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match inside_reader.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    if let Some(kept) = requests.lock().unwrap().get_mut(index) {
                        let room = KEPT_PER_CONNECTION.saturating_sub(kept.len());
                        kept.extend_from_slice(&buffer[..read.min(room)]);
                    }
                    if host_writer.write_all(&buffer[..read]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = host_writer.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut host, &mut inside);
    let _ = inside.shutdown(Shutdown::Write);
    let _ = upstream.join();
}
