//! `Group`: a running command's process group, killed whole (SIGKILL) when the call ends:
//! on timeout, on cancellation, after its leader exits, and when the call's future is dropped.
//!
//! The group's id is its leader's pid, and a pid is reused only once its process is reaped.
//! So the group is always killed while the leader is still unreaped (running, or a zombie
//! that [`leader_exited`] saw without reaping it): the id cannot name anyone else's group.

use std::io;
use std::process::ExitStatus;

use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};
use tokio::process::Child;
use tokio::signal::unix::Signal as SignalStream;

/// A command's process group and its leader, the child Baton spawned.
pub(super) struct Group {
    /// The leader; tokio reaps it (also after a drop, `kill_on_drop` being set).
    child: Child,
    /// The group's id (the leader's pid).
    pgid: Pid,
    /// Whether the leader is unreaped, so the group may be signalled.
    live: bool,
}

impl Group {
    /// The group led by `child`, spawned with `process_group(0)`. None if the child has no
    /// usable pid (it was already reaped, or its pid is 1, which would mean every process).
    pub(super) fn new(child: Child) -> Option<Group> {
        let raw = child.id().and_then(|id| i32::try_from(id).ok())?;
        let pgid = Pid::from_raw(raw).filter(|pid| !pid.is_init())?;
        Some(Group {
            child,
            pgid,
            live: true,
        })
    }

    /// The leader's pid.
    pub(super) fn pid(&self) -> Pid {
        self.pgid
    }

    /// Sends SIGKILL to every process left in the group, the leader included.
    pub(super) fn kill(&mut self) {
        if !self.live {
            return;
        }
        // ESRCH (nobody left) is the usual answer once the leader has exited: nothing to do.
        let _ = rustix::process::kill_process_group(self.pgid, Signal::KILL);
        // A leader that moved to another group still dies.
        let _ = self.child.start_kill();
    }

    /// Never signals the group again: its leader was reaped by someone else (a `waitpid(-1)`
    /// elsewhere in the process), so its id may already name another group.
    pub(super) fn forget(&mut self) {
        self.live = false;
    }

    /// Waits for the leader to end and reaps it; the group is not signalled after this.
    pub(super) async fn reap(&mut self) -> io::Result<ExitStatus> {
        let status = self.child.wait().await?;
        self.live = false;
        Ok(status)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // The call's future was dropped (or ended early) with the leader unreaped.
        self.kill();
    }
}

/// Resolves once the process `pid` (a child of Baton) has exited, leaving it unreaped.
///
/// `sigchld` must have been made before the child was spawned, so no exit goes unseen.
pub(super) async fn leader_exited(pid: Pid, sigchld: &mut SignalStream) -> io::Result<()> {
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT | WaitIdOptions::NOHANG;
    loop {
        match rustix::process::waitid(WaitId::Pid(pid), options) {
            Ok(Some(_)) => return Ok(()),
            Ok(None) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        if sigchld.recv().await.is_none() {
            return Err(io::Error::other("the runtime stopped delivering SIGCHLD"));
        }
    }
}
