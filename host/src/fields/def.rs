//! The shape of a field definition: what the registry knows about one field.

/// A field's value type, with Falco's type names (as `--list` prints them).
///
/// Several Falco types share one representation in the filter (see
/// [`FieldType::kind`]); the distinction is kept for display and for
/// rendering values in outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// `CHARBUF`: a text string.
    CharBuf,
    /// `FSPATH`: a file system path (a string).
    FsPath,
    /// `BYTEBUF`: raw bytes (e.g. `evt.buffer`).
    ByteBuf,
    /// `INT8`..`INT64`, `UINT8`..`UINT64`: integers; kept as i64 in the filter.
    Int64,
    Uint64,
    Int32,
    Uint32,
    Int16,
    Uint16,
    /// `PID`, `FD`, `ERRNO`: integer kinds Falco names separately.
    Pid,
    Fd,
    Errno,
    /// `PORT`: a TCP/UDP port number.
    Port,
    /// `L4PROTO` and `SOCKFAMILY` are numbers rendered as names; Falco's
    /// fields of those names (`fd.l4proto`, `fd.sockfamily`) are strings.
    /// `MODE`: permission bits.
    Mode,
    /// `RELTIME`: a duration in nanoseconds.
    RelTime,
    /// `ABSTIME`: a point in time, nanoseconds since the epoch.
    AbsTime,
    /// `BOOL`.
    Bool,
    /// `IPADDR`: an IPv4 or IPv6 address.
    IpAddr,
    /// `IPNET`: an address that is compared against networks (`fd.net = 10.0.0.0/8`).
    IpNet,
    /// `DOUBLE`: a floating-point number (e.g. `thread.cpu`); compared as f64.
    Double,
}

/// How values of a [`FieldType`] are represented and compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// Text, compared byte-wise.
    Str,
    /// Raw bytes (the `b*` operators take hex on the right).
    Bytes,
    /// A signed 64-bit integer.
    Num,
    /// A boolean.
    Bool,
    /// An IP address (v4 addresses are stored v4-mapped in 16 bytes).
    Ip,
    /// An IP address compared against networks.
    IpNet,
    /// A 64-bit float.
    Double,
}

impl FieldType {
    /// The representation used by the filter compiler.
    pub const fn kind(self) -> ValueKind {
        use FieldType::*;
        match self {
            CharBuf | FsPath => ValueKind::Str,
            ByteBuf => ValueKind::Bytes,
            Int64 | Uint64 | Int32 | Uint32 | Int16 | Uint16 | Pid | Fd | Errno | Port | Mode
            | RelTime | AbsTime => ValueKind::Num,
            Bool => ValueKind::Bool,
            IpAddr => ValueKind::Ip,
            IpNet => ValueKind::IpNet,
            Double => ValueKind::Double,
        }
    }

    /// Falco's name of the type, as printed by `--list`.
    pub const fn falco_name(self) -> &'static str {
        use FieldType::*;
        match self {
            CharBuf => "CHARBUF",
            FsPath => "FSPATH",
            ByteBuf => "BYTEBUF",
            Int64 => "INT64",
            Uint64 => "UINT64",
            Int32 => "INT32",
            Uint32 => "UINT32",
            Int16 => "INT16",
            Uint16 => "UINT16",
            Pid => "PID",
            Fd => "FD",
            Errno => "ERRNO",
            Port => "PORT",
            Mode => "MODE",
            RelTime => "RELTIME",
            AbsTime => "ABSTIME",
            Bool => "BOOL",
            IpAddr => "IPADDR",
            IpNet => "IPNET",
            Double => "DOUBLE",
        }
    }
}

/// Whether and how a field takes an argument in brackets (`proc.aname[2]`,
/// `proc.env[HOME]`, `json.value[/a/b]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// No argument allowed.
    None,
    /// A non-negative integer index.
    Index { required: bool },
    /// A free-form key.
    Key { required: bool },
}

/// Flags on a field definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct FieldFlags {
    /// The value is a list (`EPF_IS_LIST`): `in` needs every element in
    /// the set, `intersects` at least one.
    pub list: bool,
    /// Without an argument the field stands for every ancestor
    /// (`proc.aname`, `proc.apid`, …): a check matches if it matches
    /// any of them.
    pub any_ancestor_without_arg: bool,
    /// Hidden from `--list` (kept for compatibility).
    pub hidden: bool,
    /// Deprecated: using it in a rule warns `LOAD_DEPRECATED_ITEM`.
    pub deprecated: bool,
}

impl FieldFlags {
    /// No flags.
    pub const NONE: FieldFlags = FieldFlags {
        list: false,
        any_ancestor_without_arg: false,
        hidden: false,
        deprecated: false,
    };
    /// A list-valued field.
    pub const LIST: FieldFlags = FieldFlags {
        list: true,
        ..FieldFlags::NONE
    };
    /// An ancestor field (`proc.aname` and friends).
    pub const ANCESTOR: FieldFlags = FieldFlags {
        any_ancestor_without_arg: true,
        ..FieldFlags::NONE
    };
    /// A deprecated field.
    pub const DEPRECATED: FieldFlags = FieldFlags {
        deprecated: true,
        ..FieldFlags::NONE
    };
}

/// One field of an event source.
#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    /// Full name, e.g. `proc.name`. A name ending in `.` (e.g. `evt.arg.`)
    /// is a prefix field: any dotted suffix is accepted as its argument.
    pub name: &'static str,
    /// Value type.
    pub ty: FieldType,
    /// Argument kind.
    pub arg: ArgKind,
    /// Flags.
    pub flags: FieldFlags,
    /// One-sentence description, as `--list` prints it.
    pub desc: &'static str,
}
