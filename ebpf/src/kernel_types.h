/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * The few kernel structures the probe reads, written by hand with only the
 * fields we use. `preserve_access_index` makes clang emit CO-RE relocations:
 * libbpf/aya patch every offset at load time against the running kernel's BTF,
 * so the layout here is irrelevant and only the names must match the kernel.
 * Field names were checked against Linux 6.18's BTF; renamed fields are
 * probed with bpf_core_field_exists() where they moved.
 */
#ifndef FALCO_WASM_KERNEL_TYPES_H
#define FALCO_WASM_KERNEL_TYPES_H

#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef struct { u64 val; } kernel_cap_t;
typedef struct { u32 val; } kuid_t;
typedef struct { u32 val; } kgid_t;

struct qstr {
	u32 len;
	const unsigned char *name;
};

struct inode;
struct super_block {
	unsigned long s_magic;
};

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
};

struct vfsmount {
	struct dentry *mnt_root;
};

struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
};

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
};

struct inode {
	unsigned long i_ino;
	unsigned int i_nlink;
	struct super_block *i_sb;
	s64 i_mtime_sec;
	s64 i_ctime_sec;
	u32 i_mtime_nsec;
	u32 i_ctime_nsec;
};

struct file {
	struct path f_path;
	struct inode *f_inode;
	void *private_data;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct fs_struct {
	struct path root;
	struct path pwd;
};

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	unsigned long env_start;
	unsigned long env_end;
	struct file *exe_file;
};

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t euid;
	kgid_t egid;
	kernel_cap_t cap_inheritable;
	kernel_cap_t cap_permitted;
	kernel_cap_t cap_effective;
};

struct kernfs_node {
	const char *name;
	u64 id; /* a cgroup's: the inode number of its cgroup2 directory */
};

struct cgroup {
	struct kernfs_node *kn;
};

struct cgroup_subsys_state {
	struct cgroup *cgroup;
};

struct css_set {
	struct cgroup_subsys_state *subsys[12];
	struct cgroup *dfl_cgrp;
};

struct tty_driver {
	int major;
	int minor_start;
};

struct tty_struct {
	int index;
	struct tty_driver *driver;
};

struct signal_struct {
	struct tty_struct *tty;
	struct pid *pids[4];
};

struct upid {
	int nr;
	void *ns;
};

struct pid {
	unsigned int level;
	struct upid numbers[1];
};

/* x86: TS_COMPAT in status marks a 32-bit (ia32) system call in progress. */
struct thread_info {
	u32 status;
};

struct pt_regs {
	unsigned long orig_ax;
};

struct task_struct {
	struct thread_info thread_info;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct mm_struct *mm;
	const struct cred *cred;
	char comm[16];
	struct fs_struct *fs;
	struct files_struct *files;
	struct signal_struct *signal;
	kuid_t loginuid;
	unsigned int sessionid;
	struct css_set *cgroups;
	u64 start_time;
	int exit_code;
	struct pid *thread_pid;
};

struct linux_binprm {
	const char *filename;
};

struct in6_addr {
	u8 s6_addr[16];
};

struct sock_common {
	u32 skc_daddr;
	u32 skc_rcv_saddr;
	u16 skc_dport;
	u16 skc_num;
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
};

struct sock {
	struct sock_common __sk_common;
	u16 sk_protocol;
	u16 sk_type;
};

struct socket {
	short type;
	struct sock *sk;
};

#pragma clang attribute pop

#endif
