//! Live system call capture: the eBPF probe, its loader and the ring buffer.
//!
//! ```text
//! kernel: tp_btf/sys_exit (interesting[nr]? own process? → record) ─┐
//!         tp_btf/sched_process_{fork,exec,exit} ─────────────────────┴─► ring buffer (16 MiB, no wake-ups)
//! host:   Probe::poll ─► record::Record ─► state::State::update ─► engine
//! ```
//!
//! The probe (`ebpf/src/probe.bpf.c`) is compiled by `host/build.rs` and
//! embedded in the binary; [`Probe::open`] loads it with aya, fills the
//! in-kernel filter from the rules' event types ([`syscalls::interesting_set`])
//! and attaches its four programs, each once (detaching a tracepoint waits
//! for an RCU grace period, ~70 ms here, so one attachment per syscall would
//! make shutdown take seconds). Dropping the [`Probe`] detaches everything.

pub mod drops;
pub mod record;
pub mod syscalls;

use aya::maps::{Array, MapData, PerCpuArray, RingBuf};
use aya::programs::BtfTracePoint;
use aya::{Btf, Ebpf, EbpfLoader};

static PROBE: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/probe.bpf.o"));
const PROBE_MISSING: &str = env!("FALCO_WASM_PROBE_MISSING");

/// (program, BTF tracepoint) pairs the probe attaches.
const BTF_PROGRAMS: &[(&str, &str)] = &[
    ("fw_sys_exit", "sys_exit"),
    ("fw_sched_exec", "sched_process_exec"),
    ("fw_sched_fork", "sched_process_fork"),
    ("fw_sched_exit", "sched_process_exit"),
];

/// Why live capture cannot start.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The binary has no probe object.
    #[error("this falco-wasm binary was built without its eBPF probe: {0}")]
    NotBuilt(&'static str),
    /// Not enough privileges.
    #[error(
        "live capture needs root (CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE); run falco-wasm as root"
    )]
    NotRoot,
    /// The kernel has no BTF.
    #[error(
        "the kernel exposes no BTF at /sys/kernel/btf/vmlinux (it needs CONFIG_DEBUG_INFO_BTF=y): {0}"
    )]
    NoBtf(String),
    /// Loading or attaching failed.
    #[error("cannot {what}: {source}")]
    Load {
        /// What was being done.
        what: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn load_err(
    what: impl Into<String>,
    e: impl std::error::Error + Send + Sync + 'static,
) -> CaptureError {
    CaptureError::Load {
        what: what.into(),
        source: Box::new(e),
    }
}

/// Counters kept by the probe, summed over CPUs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeStats {
    /// Records written to the ring buffer.
    pub submitted: u64,
    /// Records lost because the ring buffer was full.
    pub dropped: u64,
}

/// The loaded and attached probe.
pub struct Probe {
    ebpf: Ebpf,
    ring: RingBuf<MapData>,
    boot_to_epoch_ns: i64,
}

impl Probe {
    /// Loads the probe, excludes this process, sets the in-kernel filter and
    /// attaches every program.
    pub fn open(interesting: &[u8]) -> Result<Probe, CaptureError> {
        if !PROBE_MISSING.is_empty() || PROBE.is_empty() {
            return Err(CaptureError::NotBuilt(PROBE_MISSING));
        }
        if !rustix::process::geteuid().is_root() {
            return Err(CaptureError::NotRoot);
        }
        let btf = Btf::from_sys_fs().map_err(|e| CaptureError::NoBtf(e.to_string()))?;
        let self_tgid = std::process::id();
        let mut ebpf = EbpfLoader::new()
            .btf(Some(&btf))
            .override_global("self_tgid", &self_tgid, true)
            .load(PROBE)
            .map_err(|e| load_err("load the eBPF probe", e))?;
        for &(prog, tp) in BTF_PROGRAMS {
            let p: &mut BtfTracePoint = ebpf
                .program_mut(prog)
                .expect("probe defines every program")
                .try_into()
                .map_err(|e| load_err(format!("use program {prog}"), e))?;
            p.load(tp, &btf)
                .map_err(|e| load_err(format!("load {prog} (tp_btf/{tp})"), e))?;
            p.attach()
                .map_err(|e| load_err(format!("attach {prog} to tp_btf/{tp}"), e))?;
        }
        let ring = RingBuf::try_from(ebpf.take_map("events").expect("probe defines `events`"))
            .map_err(|e| load_err("open the ring buffer", e))?;
        let mut probe = Probe {
            ebpf,
            ring,
            boot_to_epoch_ns: boot_to_epoch_ns(),
        };
        probe.set_interesting(interesting)?;
        Ok(probe)
    }

    /// Sets the in-kernel filter (at start and after a rules reload), with
    /// the ia32 → x86_64 numbers beside it (32-bit calls are captured as
    /// the x86_64 call they are).
    pub fn set_interesting(&mut self, interesting: &[u8]) -> Result<(), CaptureError> {
        let map = self
            .ebpf
            .map_mut("interesting")
            .expect("probe defines `interesting`");
        // the probe's `struct sc_entry { u8 want; u8 pad; u16 as64; }`,
        // little endian, as one u32
        let mut set: Array<_, u32> =
            Array::try_from(map).map_err(|e| load_err("open map interesting", e))?;
        let compat = syscalls::compat_table();
        for (nr, &want) in interesting.iter().enumerate() {
            let as64 = compat.get(nr).copied().unwrap_or(0);
            let entry = u32::from(want) | u32::from(as64) << 16;
            set.set(nr as u32, entry, 0)
                .map_err(|e| load_err("fill map interesting", e))?;
        }
        Ok(())
    }

    /// Hands up to `max` available records to `f`; returns how many there
    /// were. Bounded: under a flood the ring buffer never empties, and the
    /// caller has other duties between two calls.
    pub fn drain_at_most(&mut self, max: usize, mut f: impl FnMut(&[u8])) -> usize {
        let mut n = 0;
        while n < max {
            let Some(item) = self.ring.next() else {
                break;
            };
            f(&item);
            n += 1;
        }
        n
    }

    /// Adds this to a record's boot-time stamp for nanoseconds since the epoch.
    pub fn boot_to_epoch_ns(&self) -> i64 {
        self.boot_to_epoch_ns
    }

    /// The probe's counters.
    pub fn stats(&self) -> ProbeStats {
        let Some(map) = self.ebpf.map("counters") else {
            return ProbeStats::default();
        };
        let Ok(c) = PerCpuArray::<_, u64>::try_from(map) else {
            return ProbeStats::default();
        };
        let sum = |i: u32| c.get(&i, 0).map(|v| v.iter().sum()).unwrap_or(0);
        ProbeStats {
            submitted: sum(0),
            dropped: sum(1),
        }
    }
}

/// Realtime minus boot time, in nanoseconds.
pub fn boot_to_epoch_ns() -> i64 {
    use rustix::time::{ClockId, clock_gettime};
    let ns = |t: rustix::time::Timespec| t.tv_sec * 1_000_000_000 + t.tv_nsec;
    let boot = ns(clock_gettime(ClockId::Boottime));
    let real = ns(clock_gettime(ClockId::Realtime));
    real - boot
}
