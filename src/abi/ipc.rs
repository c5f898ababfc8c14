//! System V IPC structs: ipc64_perm, sembuf, and the POSIX mq_attr.

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// struct ipc64_perm.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Ipc64Perm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u32,
    pub seq: u16,
    pub _pad2: u16,
    pub _pad3: u32,
    pub _unused1: u64,
    pub _unused2: u64,
}
abi_size!(Ipc64Perm, 48);

/// struct sembuf (semop).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Sembuf {
    pub sem_num: u16,
    pub sem_op: i16,
    pub sem_flg: i16,
}
abi_size!(Sembuf, 6);

/// struct mq_attr.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct MqAttr {
    pub mq_flags: i64,
    pub mq_maxmsg: i64,
    pub mq_msgsize: i64,
    pub mq_curmsgs: i64,
    pub _reserved: [i64; 4],
}
abi_size!(MqAttr, 64);

/// struct msqid64_ds.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct MsqidDs {
    pub msg_perm: Ipc64Perm,
    pub msg_stime: u64,
    pub msg_rtime: u64,
    pub msg_ctime: u64,
    pub msg_cbytes: u64,
    pub msg_qnum: u64,
    pub msg_qbytes: u64,
    pub msg_lspid: i32,
    pub msg_lrpid: i32,
    pub _unused4: u64,
    pub _unused5: u64,
}
abi_size!(MsqidDs, 120);

/// struct semid64_ds.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SemidDs {
    pub sem_perm: Ipc64Perm,
    pub sem_otime: u64,
    pub _unused1: u64,
    pub sem_ctime: u64,
    pub _unused2: u64,
    pub sem_nsems: u64,
    pub _unused3: u64,
    pub _unused4: u64,
}
abi_size!(SemidDs, 104);

/// struct shmid64_ds.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ShmidDs {
    pub shm_perm: Ipc64Perm,
    pub shm_segsz: u64,
    pub shm_atime: u64,
    pub shm_dtime: u64,
    pub shm_ctime: u64,
    pub shm_cpid: i32,
    pub shm_lpid: i32,
    pub shm_nattch: u64,
    pub _unused4: u64,
    pub _unused5: u64,
}
abi_size!(ShmidDs, 112);

/// struct msginfo (msgctl IPC_INFO, MSG_INFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Msginfo {
    pub msgpool: i32,
    pub msgmap: i32,
    pub msgmax: i32,
    pub msgmnb: i32,
    pub msgmni: i32,
    pub msgssz: i32,
    pub msgtql: i32,
    pub msgseg: u16,
    pub _pad: u16,
}
abi_size!(Msginfo, 32);

/// struct seminfo (semctl IPC_INFO, SEM_INFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Seminfo {
    pub semmap: i32,
    pub semmni: i32,
    pub semmns: i32,
    pub semmnu: i32,
    pub semmsl: i32,
    pub semopm: i32,
    pub semume: i32,
    pub semusz: i32,
    pub semvmx: i32,
    pub semaem: i32,
}
abi_size!(Seminfo, 40);

/// struct shminfo64 (shmctl IPC_INFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Shminfo64 {
    pub shmmax: u64,
    pub shmmin: u64,
    pub shmmni: u64,
    pub shmseg: u64,
    pub shmall: u64,
    pub _unused: [u64; 4],
}
abi_size!(Shminfo64, 72);

/// struct shm_info (shmctl SHM_INFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ShmInfo {
    pub used_ids: i32,
    pub _pad: i32,
    pub shm_tot: u64,
    pub shm_rss: u64,
    pub shm_swp: u64,
    pub swap_attempts: u64,
    pub swap_successes: u64,
}
abi_size!(ShmInfo, 48);
