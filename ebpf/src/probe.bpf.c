// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * falco-wasm syscall probe.
 *
 * One record per syscall *exit* (like Falco since 0.42), plus three scheduler
 * events the state engine needs (fork, exec filename, exit). A record is a
 * fixed header followed by typed parameters; host/src/capture/record.rs is
 * the other half of this format and documents it.
 *
 * In-kernel filtering: `fw_sys_exit` runs at every syscall exit and first
 * looks the syscall up in `interesting[nr]`, which the host fills from the
 * loaded rules and the state engine's needs: 0 = not wanted (return at
 * once), 1 = send always, 2 = only when it succeeded (state-only
 * syscalls). The engine's own process is excluded. Records are submitted
 * without a wake-up: the host drains the ring continuously under load and
 * every 2 ms when idle (RECIPES: per-record wake-ups cost 5-7x). Failed
 * submissions are counted per CPU in `counters` and reported.
 */
#include "kernel_types.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the host before loading. */
const volatile u32 self_tgid = 0;

/* Record kinds above the syscall numbers. */
#define KIND_FORK 1000
#define KIND_PROCEXIT 1001

/* Parameter kinds (high byte of the 16-bit code; low byte = argument index). */
#define P_USTR 1     /* NUL-terminated user string at args[idx] */
#define P_SOCKADDR 2 /* user sockaddr at args[idx], length in the next arg */
#define P_TUPLE 3    /* socket tuple of the fd in args[idx] (idx 7 = ret) */
#define P_EXEC 4     /* struct exec_info */
#define P_ARGS 5     /* argv block, NUL separated */
#define P_ENV 6      /* environment block, NUL separated */
#define P_EXEPATH 7  /* path of mm->exe_file */
#define P_CWD 8      /* current working directory */
#define P_CGROUP 9   /* one cgroup leaf name per controller */
#define P_FILENAME 10 /* filename given to execve (from sched_process_exec) */
#define P_CREDS 11   /* struct creds */
#define P_FDPAIR 12  /* two ints at user pointer args[idx] (pipe, socketpair) */
#define P_FDPATH 13  /* path of the file at fd args[idx] (idx 7 = ret) */
#define P_ROOT 14    /* root directory (chroot) */
#define P_COMM 15    /* task comm after exec */
#define P_DATA 16    /* the first SNAPLEN bytes a read or write moved, from args[idx] */

#define SNAPLEN 80   /* bytes of I/O data kept (sysdig's default) */

#define IDX_RET 7

#define SCRATCH_SIZE 32768
#define REC_MASK 0x3fff /* records stay below 16 KiB; writes are at most 4 KiB more */
#define MAX_STR 4096
#define MAX_PATH_STR 256
#define MAX_COMPONENTS 48
#define NR_SYSCALLS 512

struct rec_hdr {
	u64 ts;
	u32 tid;
	u32 pid;
	u16 kind;
	u16 nparams;
	u32 len;
	s64 ret;
	u64 args[6];
};

struct creds {
	u32 uid, gid, euid, egid;
	u64 cap_inheritable, cap_permitted, cap_effective;
};

struct exec_info {
	struct creds creds;
	u32 ppid;
	u32 loginuid;
	u32 sessionid;
	u32 tty;
	u64 exe_ino;
	s64 exe_ctime_sec;
	s64 exe_mtime_sec;
	u32 exe_ctime_nsec;
	u32 exe_mtime_nsec;
	u64 start_time;
	u32 exe_nlink;
	u32 pad;
	/* ids in the task's own pid namespace (v*) and global ones */
	u32 vpid;
	u32 vtid;
	u32 pgid;
	u32 vpgid;
	u32 sid;
	u32 vsid; /* the session id in the task's own pid namespace (0: its leader is outside) */
	u64 cgroup_id; /* its cgroup2 cgroup: the inode of its directory */
};

struct tuple {
	u16 family;
	u16 type;
	u16 protocol;
	u16 lport;
	u16 rport;
	u16 pad[3];
	u8 laddr[16];
	u8 raddr[16];
};

struct scratch {
	u8 buf[SCRATCH_SIZE];
};

/* Per-CPU state of a path walk. Kept in a map, not on the stack, so that the
 * verifier sees unknown scalars and checks each bpf_loop body once. */
struct path_parts {
	u64 names[64];
	u64 vfsmnt, dentry, mnt, root_mnt, root_dentry;
	u32 n, d, len, pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/*
 * Per syscall number: whether to send it (`want`: 0 never, 1 always, 2 when
 * it succeeds) and, read as an ia32 number, the x86_64 number of the same
 * call (`as64`, 0: not captured). One lookup gives both, so a syscall no one
 * needs costs one array lookup. A 32-bit program, or a 64-bit one using
 * `int $0x80`, is seen as the x86_64 call.
 */
struct sc_entry {
	u8 want;
	u8 pad;
	u16 as64;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SYSCALLS);
	__type(key, u32);
	__type(value, struct sc_entry);
} interesting SEC(".maps");

/* [0] records submitted, [1] records dropped (ring full), [2] records cut */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct path_parts);
} parts_map SEC(".maps");

/* tid -> filename passed to execve, recorded at sched_process_exec. */
struct exec_name {
	char name[MAX_PATH_STR];
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, struct exec_name);
} exec_names SEC(".maps");

static __always_inline void count(u32 idx)
{
	u64 *c = bpf_map_lookup_elem(&counters, &idx);
	if (c)
		*c += 1;
}

static __always_inline struct scratch *get_scratch(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&scratch_map, &zero);
}

static __always_inline void begin(struct scratch *s, u16 kind, u32 tid, u32 pid, s64 ret)
{
	struct rec_hdr *h = (struct rec_hdr *)s->buf;
	h->ts = bpf_ktime_get_boot_ns();
	h->tid = tid;
	h->pid = pid;
	h->kind = kind;
	h->nparams = 0;
	h->len = sizeof(*h);
	h->ret = ret;
	for (int i = 0; i < 6; i++)
		h->args[i] = 0;
}

/* Reserve a parameter header at the current end; returns its data offset. */
static __always_inline u32 param_start(struct scratch *s, u16 code)
{
	struct rec_hdr *h = (struct rec_hdr *)s->buf;
	u32 off = h->len & REC_MASK;
	*(u16 *)&s->buf[off] = code;
	*(u16 *)&s->buf[off + 2] = 0;
	return off + 4;
}

static __always_inline void param_end(struct scratch *s, u32 data_off, u32 n)
{
	struct rec_hdr *h = (struct rec_hdr *)s->buf;
	u32 off = (data_off - 4) & REC_MASK;
	if (n > MAX_STR)
		n = 0;
	*(u16 *)&s->buf[off + 2] = n;
	h->len = (data_off + n);
	h->nparams += 1;
	if (h->len > REC_MASK) {
		/* Cannot happen with the sizes used, but never emit a broken record. */
		h->len = off;
		count(2);
	}
}

static __always_inline void put_user_str(struct scratch *s, u16 code, const void *ptr)
{
	u32 d = param_start(s, code) & REC_MASK;
	long n = 0;
	if (ptr)
		n = bpf_probe_read_user_str(&s->buf[d], MAX_STR, ptr);
	if (n < 0)
		n = 0;
	param_end(s, d, (u32)n);
}

static __always_inline void put_user_block(struct scratch *s, u16 code, unsigned long start, unsigned long end)
{
	u32 d = param_start(s, code) & REC_MASK;
	u32 n = 0;
	if (end > start) {
		n = end - start;
		if (n > MAX_STR - 1)
			n = MAX_STR - 1;
		if (bpf_probe_read_user(&s->buf[d], n & (MAX_STR - 1), (const void *)start) < 0)
			n = 0;
	}
	param_end(s, d, n & (MAX_STR - 1));
}

/*
 * Path of (mnt, dentry) as d_path() would print it relative to `root`:
 * components are collected walking up (crossing mounts), then written
 * forward. Stops at the task's root, at the global root, or after
 * MAX_COMPONENTS (then the path is cut at the top). Both loops run under
 * bpf_loop() so the verifier checks each body once.
 */
static long walk_step(u64 i, void *ctx)
{
	u32 zero = 0;
	struct path_parts *w = bpf_map_lookup_elem(&parts_map, &zero);
	if (!w)
		return 1;
	if (w->dentry == w->root_dentry && w->vfsmnt == w->root_mnt)
		return 1;
	struct vfsmount *vfsmnt = (struct vfsmount *)w->vfsmnt;
	struct dentry *dentry = (struct dentry *)w->dentry;
	struct mount *mnt = (struct mount *)w->mnt;
	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == mnt_root || dentry == parent) {
		if (dentry != mnt_root) {
			/* A pseudo file's dentry is its own parent (memfd, pipes):
			 * keep its name ("memfd:x") as the only component. */
			if (w->n < MAX_COMPONENTS)
				w->names[w->n++ & 63] = (u64)BPF_CORE_READ(dentry, d_name.name);
			return 1;
		}
		struct mount *mparent = BPF_CORE_READ(mnt, mnt_parent);
		if (mparent == mnt || !mparent)
			return 1;
		w->dentry = (u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = (u64)mparent;
		w->vfsmnt = (u64)mparent + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	if (w->n >= MAX_COMPONENTS)
		return 1;
	w->names[w->n & 63] = (u64)BPF_CORE_READ(dentry, d_name.name);
	w->n++;
	w->dentry = (u64)parent;
	return 0;
}

static long write_step(u64 i, void *ctx)
{
	u32 zero = 0;
	struct path_parts *w = bpf_map_lookup_elem(&parts_map, &zero);
	struct scratch *s = get_scratch();
	if (!w || !s || i >= w->n)
		return 1;
	if (w->len > MAX_STR - MAX_PATH_STR - 2)
		return 1;
	u32 j = (w->n - 1 - (u32)i) & 63;
	u32 o = (w->d + w->len) & REC_MASK;
	s->buf[o] = '/';
	long k = bpf_probe_read_kernel_str(&s->buf[(o + 1) & REC_MASK], MAX_PATH_STR, (const void *)w->names[j]);
	if (k <= 1)
		k = 1; /* keep the slash of an unreadable name */
	w->len += k; /* '/' + name is k bytes; the NUL is overwritten by the next '/' */
	return 0;
}

__attribute__((noinline)) int fw_put_path(u32 code, u64 mnt_p, u64 dentry_p, u64 root_mnt_p, u64 root_dentry_p)
{
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	u32 d = param_start(s, code) & REC_MASK;
	if (!mnt_p || !dentry_p) {
		param_end(s, d, 0);
		return 0;
	}
	u32 zero = 0;
	struct path_parts *w = bpf_map_lookup_elem(&parts_map, &zero);
	if (!w) {
		param_end(s, d, 0);
		return 0;
	}
	w->vfsmnt = mnt_p;
	w->dentry = dentry_p;
	w->mnt = mnt_p - bpf_core_field_offset(struct mount, mnt);
	w->root_mnt = root_mnt_p;
	w->root_dentry = root_dentry_p;
	w->n = 0;
	w->d = d;
	w->len = 0;
	bpf_loop(MAX_COMPONENTS * 2, walk_step, 0, 0);
	u32 len = 1;
	if (w->n == 0) {
		s->buf[d] = '/';
	} else {
		bpf_loop(MAX_COMPONENTS, write_step, 0, 0);
		len = w->len;
	}
	param_end(s, d, len);
	return 0;
}

static __always_inline void put_path(struct scratch *s, u16 code, struct vfsmount *m, struct dentry *dn,
				     struct vfsmount *rm, struct dentry *rd)
{
	(void)s;
	fw_put_path(code, (u64)m, (u64)dn, (u64)rm, (u64)rd);
}

static __always_inline void put_task_path(struct scratch *s, u16 code, struct task_struct *task, int which)
{
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	struct vfsmount *rm = BPF_CORE_READ(fs, root.mnt);
	struct dentry *rd = BPF_CORE_READ(fs, root.dentry);
	struct vfsmount *m;
	struct dentry *dn;
	if (which == P_ROOT) {
		/* the root as seen from outside: walk to the global root */
		m = rm;
		dn = rd;
		rm = 0;
		rd = 0;
	} else {
		m = BPF_CORE_READ(fs, pwd.mnt);
		dn = BPF_CORE_READ(fs, pwd.dentry);
	}
	put_path(s, code, m, dn, rm, rd);
}

static __always_inline struct file *fd_file(struct task_struct *task, long fd)
{
	if (fd < 0)
		return 0;
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned long)fd >= max)
		return 0;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline void put_file_path(struct scratch *s, u16 code, struct task_struct *task, struct file *f)
{
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	put_path(s, code, BPF_CORE_READ(f, f_path.mnt), BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(fs, root.mnt),
		 BPF_CORE_READ(fs, root.dentry));
}

__attribute__((noinline)) int fw_put_tuple(u32 code, s64 fd)
{
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	u32 d = param_start(s, code) & REC_MASK;
	struct file *f = fd_file(task, fd);
	if (!f) {
		param_end(s, d, 0);
		return 0;
	}
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk) {
		param_end(s, d, 0);
		return 0;
	}
	struct tuple *t = (struct tuple *)&s->buf[d];
	t->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	t->type = BPF_CORE_READ(sk, sk_type);
	t->protocol = BPF_CORE_READ(sk, sk_protocol);
	t->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	t->pad[0] = t->pad[1] = t->pad[2] = 0;
	if (t->family == 10 /* AF_INET6 */) {
		BPF_CORE_READ_INTO(&t->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&t->raddr, sk, __sk_common.skc_v6_daddr);
	} else {
		__builtin_memset(t->laddr, 0, 16);
		__builtin_memset(t->raddr, 0, 16);
		if (t->family == 2 /* AF_INET */) {
			*(u32 *)t->laddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
			*(u32 *)t->raddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		}
	}
	param_end(s, d, sizeof(*t));
	return 0;
}

static __always_inline void fill_creds(struct creds *c, struct task_struct *task)
{
	const struct cred *cr = BPF_CORE_READ(task, cred);
	c->uid = BPF_CORE_READ(cr, uid.val);
	c->gid = BPF_CORE_READ(cr, gid.val);
	c->euid = BPF_CORE_READ(cr, euid.val);
	c->egid = BPF_CORE_READ(cr, egid.val);
	c->cap_inheritable = BPF_CORE_READ(cr, cap_inheritable.val);
	c->cap_permitted = BPF_CORE_READ(cr, cap_permitted.val);
	c->cap_effective = BPF_CORE_READ(cr, cap_effective.val);
}

static __always_inline void put_creds(struct scratch *s, struct task_struct *task)
{
	u32 d = param_start(s, P_CREDS << 8) & REC_MASK;
	fill_creds((struct creds *)&s->buf[d], task);
	param_end(s, d, sizeof(struct creds));
}

/* The number of a struct pid, globally (level 0) or in its own namespace. */
static __always_inline u32 pid_nr(struct pid *p, int virt)
{
	if (!p)
		return 0;
	unsigned int level = virt ? BPF_CORE_READ(p, level) : 0;
	if (level > 32)
		return 0;
	int nr = 0;
	void *at = (void *)p + bpf_core_field_offset(struct pid, numbers) + level * bpf_core_type_size(struct upid);
	bpf_probe_read_kernel(&nr, sizeof(nr), at);
	return nr;
}

/* the number of pid p in the pid namespace `level` deep (0: p is not seen there) */
static __always_inline u32 pid_nr_at(struct pid *p, unsigned int level)
{
	if (!p || level > 32 || BPF_CORE_READ(p, level) < level)
		return 0;
	int nr = 0;
	void *at = (void *)p + bpf_core_field_offset(struct pid, numbers) + level * bpf_core_type_size(struct upid);
	bpf_probe_read_kernel(&nr, sizeof(nr), at);
	return nr;
}

static __always_inline void put_exec(struct scratch *s, struct task_struct *task, u32 tid)
{
	u32 d = param_start(s, P_EXEC << 8) & REC_MASK;
	struct exec_info *e = (struct exec_info *)&s->buf[d];
	fill_creds(&e->creds, task);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->loginuid = BPF_CORE_READ(task, loginuid.val);
	e->sessionid = BPF_CORE_READ(task, sessionid);
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	e->tty = 0;
	if (tty) {
		int major = BPF_CORE_READ(tty, driver, major);
		int minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
		e->tty = ((u32)major << 20) | (u32)minor; /* the kernel's new_encode_dev-like MKDEV */
	}
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct inode *ino = BPF_CORE_READ(exe, f_inode);
	e->exe_ino = BPF_CORE_READ(ino, i_ino);
	e->exe_nlink = BPF_CORE_READ(ino, i_nlink);
	e->exe_ctime_sec = 0;
	e->exe_mtime_sec = 0;
	e->exe_ctime_nsec = 0;
	e->exe_mtime_nsec = 0;
	if (bpf_core_field_exists(ino->i_ctime_sec)) {
		e->exe_ctime_sec = BPF_CORE_READ(ino, i_ctime_sec);
		e->exe_ctime_nsec = BPF_CORE_READ(ino, i_ctime_nsec);
		e->exe_mtime_sec = BPF_CORE_READ(ino, i_mtime_sec);
		e->exe_mtime_nsec = BPF_CORE_READ(ino, i_mtime_nsec);
	}
	e->start_time = BPF_CORE_READ(task, start_time);
	e->pad = 0;
	struct pid *tp = BPF_CORE_READ(task, thread_pid);
	struct pid *lp = BPF_CORE_READ(task, group_leader, thread_pid);
	struct pid *pg = BPF_CORE_READ(task, signal, pids[2]); /* PIDTYPE_PGID */
	struct pid *sd = BPF_CORE_READ(task, signal, pids[3]); /* PIDTYPE_SID */
	e->vtid = pid_nr(tp, 1);
	e->vpid = pid_nr(lp, 1);
	e->pgid = pid_nr(pg, 0);
	e->vpgid = pid_nr(pg, 1);
	e->sid = pid_nr(sd, 0);
	e->vsid = pid_nr_at(sd, tp ? BPF_CORE_READ(tp, level) : 0);
	e->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	param_end(s, d, sizeof(*e));
}

static __always_inline void put_cgroups(struct scratch *s, struct task_struct *task)
{
	struct css_set *cs = BPF_CORE_READ(task, cgroups);
	for (int i = 0; i < 12; i++) {
		struct cgroup_subsys_state *css = 0;
		bpf_probe_read_kernel(&css, sizeof(css), &cs->subsys[i]);
		const char *name = 0;
		if (css)
			name = BPF_CORE_READ(css, cgroup, kn, name);
		u32 d = param_start(s, (P_CGROUP << 8) | i) & REC_MASK;
		long n = 0;
		if (name)
			n = bpf_probe_read_kernel_str(&s->buf[d], MAX_PATH_STR, name);
		param_end(s, d, n > 0 ? n : 0);
	}
	const char *dfl = BPF_CORE_READ(cs, dfl_cgrp, kn, name);
	u32 d = param_start(s, (P_CGROUP << 8) | 12) & REC_MASK;
	long n = 0;
	if (dfl)
		n = bpf_probe_read_kernel_str(&s->buf[d], MAX_PATH_STR, dfl);
	param_end(s, d, n > 0 ? n : 0);
}

/* The first SNAPLEN bytes of the `ret` bytes a read or write moved
 * through the user buffer at `buf` of `size` bytes (recvfrom with
 * MSG_TRUNC returns more than it wrote). */
static __always_inline void put_data(struct scratch *s, u64 buf, u64 size, s64 ret)
{
	if (ret <= 0)
		return;
	if ((u64)ret < size)
		size = (u64)ret;
	u32 n = size > SNAPLEN ? SNAPLEN : (u32)size;
	n &= 0x7f;
	u32 d = param_start(s, (P_DATA << 8) | 1) & REC_MASK;
	if (bpf_probe_read_user(&s->buf[d], n, (const void *)buf) < 0)
		n = 0;
	param_end(s, d, n);
}

/* The data of the first buffer of the iovec array at `iov` (struct
 * iovec: base, len; a 64-bit call's layout) that a call moved `ret` bytes
 * through. */
static __always_inline void put_iov_data(struct scratch *s, u64 iov, s64 ret)
{
	u64 v[2] = {};
	if (ret <= 0 || bpf_probe_read_user(v, sizeof(v), (const void *)iov) < 0)
		return;
	put_data(s, v[0], v[1], ret);
}

static __always_inline void submit(struct scratch *s)
{
	struct rec_hdr *h = (struct rec_hdr *)s->buf;
	u32 len = h->len & REC_MASK;
	if (len < sizeof(struct rec_hdr))
		return;
	if (bpf_ringbuf_output(&events, s->buf, len, BPF_RB_NO_WAKEUP) == 0)
		count(0);
	else
		count(1);
}

__attribute__((noinline)) int fw_exec_params(u32 tid)
{
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	put_exec(s, task, tid);
	put_user_block(s, P_ARGS << 8, BPF_CORE_READ(mm, arg_start), BPF_CORE_READ(mm, arg_end));
	put_user_block(s, P_ENV << 8, BPF_CORE_READ(mm, env_start), BPF_CORE_READ(mm, env_end));
	struct file *exe = BPF_CORE_READ(mm, exe_file);
	put_file_path(s, P_EXEPATH << 8, task, exe);
	put_task_path(s, P_CWD << 8, task, P_CWD);
	put_cgroups(s, task);
	u32 c = param_start(s, P_COMM << 8) & REC_MASK;
	bpf_get_current_comm(&s->buf[c], 16);
	param_end(s, c, 16);
	u32 d = param_start(s, P_FILENAME << 8) & REC_MASK;
	struct exec_name *en = bpf_map_lookup_elem(&exec_names, &tid);
	long n = 0;
	if (en) {
		n = bpf_probe_read_kernel_str(&s->buf[d], MAX_PATH_STR, en->name);
		bpf_map_delete_elem(&exec_names, &tid);
	}
	param_end(s, d, n > 0 ? n : 0);
	return 0;
}

#define ARG(i) (args[i])
#define USTR(i) put_user_str(s, (P_USTR << 8) | (i), (const void *)args[i])
#define SADDR(i)                                                                                                       \
	do {                                                                                                           \
		u32 _d = param_start(s, (P_SOCKADDR << 8) | (i)) & REC_MASK;                                          \
		u32 _n = args[(i) + 1] & 127;                                                                        \
		if (!args[i] || bpf_probe_read_user(&s->buf[_d], _n, (const void *)args[i]) < 0)                      \
			_n = 0;                                                                                        \
		param_end(s, _d, _n);                                                                                  \
	} while (0)
#define TUPLE(fd, idx) fw_put_tuple((P_TUPLE << 8) | (idx), fd)

/* x86_64 struct pt_regs, whose layout is part of the ptrace ABI: read in one copy. */
struct user_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax;
};

#define TS_COMPAT 0x0002

static __always_inline int on_sys_exit(long nr, long ret, int compat);

/*
 * Attached once to the raw `sys_exit` tracepoint, so every system call runs
 * this: the `interesting` lookup is the first thing it does, and everything
 * else is skipped for syscalls no rule or state needs. Attaching to the
 * per-syscall `syscalls:sys_exit_NAME` events instead measured the same on an
 * uninteresting syscall (getppid 1.20x vs 1.21x), slower on interesting ones
 * (open+close 1.44x vs 1.12x: the perf event copies the arguments first), and
 * costs ~70 ms per event at detach (4 s to exit with the default rules: the
 * kernel waits for a grace period per tracepoint).
 * 32-bit (ia32) system calls have their own numbers: the entry's `as64`
 * gives the x86_64 call they are, and their arguments are in other
 * registers. The task is read only when the number may be one.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(fw_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = regs->orig_ax;
	if (nr < 0 || nr >= NR_SYSCALLS)
		return 0;
	u32 key = nr;
	struct sc_entry *e = bpf_map_lookup_elem(&interesting, &key);
	if (!e)
		return 0;
	int native = e->want != 0 && !(e->want == 2 && ret < 0);
	u32 nr64 = e->as64;
	if (!native && nr64 == 0)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!(task->thread_info.status & TS_COMPAT))
		return native ? on_sys_exit(nr, ret, 0) : 0;
	if (nr64 == 0 || nr64 >= NR_SYSCALLS)
		return 0;
	e = bpf_map_lookup_elem(&interesting, &nr64);
	if (!e || e->want == 0 || (e->want == 2 && ret < 0))
		return 0;
	return on_sys_exit(nr64, ret, 1);
}

/* Builds and submits the record of an interesting syscall's exit
 * (`compat`: an ia32 call, `nr` already its x86_64 number). */
static __always_inline int on_sys_exit(long nr, long ret, int compat)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tgid = id >> 32, tid = (u32)id;
	if (tgid == self_tgid)
		return 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	begin(s, nr, tid, tgid, ret);
	struct rec_hdr *h = (struct rec_hdr *)s->buf;
	u64 *args = h->args;
	struct user_regs regs = {};
	bpf_probe_read_kernel(&regs, sizeof(regs), (void *)bpf_task_pt_regs(bpf_get_current_task_btf()));
	if (compat) {
		/* ia32: ebx, ecx, edx, esi, edi, ebp (32-bit values) */
		args[0] = (u32)regs.bx;
		args[1] = (u32)regs.cx;
		args[2] = (u32)regs.dx;
		args[3] = (u32)regs.si;
		args[4] = (u32)regs.di;
		args[5] = (u32)regs.bp;
	} else {
		args[0] = regs.di;
		args[1] = regs.si;
		args[2] = regs.dx;
		args[3] = regs.r10;
		args[4] = regs.r8;
		args[5] = regs.r9;
	}
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();

	switch (nr) {
	case 2:   /* open */
	case 76:  /* truncate */
	case 85:  /* creat */
	case 84:  /* rmdir */
	case 87:  /* unlink */
	case 83:  /* mkdir */
	case 90:  /* chmod */
	case 166: /* umount2 */
	case 319: /* memfd_create */
	case 92:  /* chown */
	case 94:  /* lchown */
		USTR(0);
		break;
	case 437: /* openat2: replace the open_how pointer by its flags */
	{
		u64 flags = 0;
		bpf_probe_read_user(&flags, sizeof(flags), (const void *)args[2]);
		USTR(1);
		args[2] = flags;
		break;
	}
	case 257: /* openat */
	case 263: /* unlinkat */
	case 258: /* mkdirat */
	case 268: /* fchmodat */
	case 452: /* fchmodat2 */
	case 260: /* fchownat */
		USTR(1);
		break;
	case 86:  /* link */
	case 88:  /* symlink */
	case 82:  /* rename */
		USTR(0);
		USTR(1);
		break;
	case 265: /* linkat */
	case 264: /* renameat */
	case 316: /* renameat2 */
		USTR(1);
		USTR(3);
		break;
	case 266: /* symlinkat */
		USTR(0);
		USTR(2);
		break;
	case 165: /* mount */
		USTR(0);
		USTR(1);
		USTR(2);
		break;
	case 80:  /* chdir */
	case 81:  /* fchdir */
		if (nr == 80)
			USTR(0);
		if (ret == 0)
			put_task_path(s, P_CWD << 8, task, P_CWD);
		break;
	case 161: /* chroot */
		USTR(0);
		if (ret == 0)
			put_task_path(s, P_ROOT << 8, task, P_ROOT);
		break;
	case 59:  /* execve */
	case 322: /* execveat */
		if (ret == 0)
			fw_exec_params(tid);
		else if (nr == 59)
			USTR(0);
		else
			USTR(1);
		break;
	case 42: /* connect */
		SADDR(1);
		TUPLE(args[0], 0);
		break;
	case 49: /* bind */
		SADDR(1);
		TUPLE(args[0], 0);
		break;
	case 43:  /* accept */
	case 288: /* accept4 */
		TUPLE(ret, IDX_RET);
		break;
	case 0:  /* read */
	case 1:  /* write */
	case 17: /* pread64 */
	case 18: /* pwrite64 */
		put_data(s, args[1], args[2], ret);
		break;
	case 44: /* sendto */
	case 45: /* recvfrom */
		put_data(s, args[1], args[2], ret);
		TUPLE(args[0], 0);
		break;
	case 19: /* readv */
	case 20: /* writev */
		if (!compat)
			put_iov_data(s, args[1], ret);
		break;
	case 46: /* sendmsg */
	case 47: /* recvmsg */
		if (!compat) {
			/* struct msghdr: msg_iov at 16 */
			u64 iov = 0;
			bpf_probe_read_user(&iov, sizeof(iov), (const void *)(args[1] + 16));
			if (iov)
				put_iov_data(s, iov, ret);
		}
		TUPLE(args[0], 0);
		break;
	case 50: /* listen */
		TUPLE(args[0], 0);
		break;
	case 22:  /* pipe */
	case 293: /* pipe2 */
	case 53:  /* socketpair */
		if (ret == 0) {
			int i = nr == 53 ? 3 : 0;
			u32 d = param_start(s, (P_FDPAIR << 8) | i) & REC_MASK;
			u32 n = 8;
			if (bpf_probe_read_user(&s->buf[d], 8, (const void *)args[i & 3]) < 0)
				n = 0;
			param_end(s, d, n);
		}
		break;
	case 105: /* setuid */
	case 106: /* setgid */
	case 113: /* setreuid */
	case 114: /* setregid */
	case 117: /* setresuid */
	case 119: /* setresgid */
	case 126: /* capset */
		put_creds(s, task);
		break;
	case 175: /* init_module: evt.arg.uargs */
		USTR(2);
		break;
	case 157: /* prctl */
		if (args[0] == 15 /* PR_SET_NAME */)
			USTR(1);
		break;
	default:
		break;
	}
	submit(s);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(fw_sched_exec, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	u64 id = bpf_get_current_pid_tgid();
	if ((u32)(id >> 32) == self_tgid)
		return 0;
	u32 tid = (u32)id;
	u32 zero = 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	/* build the name in scratch, then copy into the map */
	struct exec_name *en = (struct exec_name *)s->buf;
	if (bpf_probe_read_kernel_str(en->name, sizeof(en->name), BPF_CORE_READ(bprm, filename)) < 0)
		en->name[0] = 0;
	bpf_map_update_elem(&exec_names, &tid, en, BPF_ANY);
	(void)zero;
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fw_sched_fork, struct task_struct *parent, struct task_struct *child)
{
	u64 id = bpf_get_current_pid_tgid();
	if ((u32)(id >> 32) == self_tgid)
		return 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	u32 ctid = BPF_CORE_READ(child, pid);
	u32 ctgid = BPF_CORE_READ(child, tgid);
	begin(s, KIND_FORK, ctid, ctgid, 0);
	struct rec_hdr *h = (struct rec_hdr *)s->buf;
	h->args[0] = (u32)id;
	h->args[1] = id >> 32;
	h->args[2] = BPF_CORE_READ(child, real_parent, tgid);
	h->args[3] = BPF_CORE_READ(child, start_time);
	h->args[4] = pid_nr(BPF_CORE_READ(child, thread_pid), 1); /* child's id in its pid namespace */
	submit(s);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(fw_sched_exit, struct task_struct *p)
{
	u64 id = bpf_get_current_pid_tgid();
	if ((u32)(id >> 32) == self_tgid)
		return 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	begin(s, KIND_PROCEXIT, (u32)id, id >> 32, 0);
	struct rec_hdr *h = (struct rec_hdr *)s->buf;
	h->args[0] = BPF_CORE_READ(p, exit_code);
	submit(s);
	return 0;
}
