// lxc.cgroup2.FILE and lxc.cgroup.FILE (v1): which controller files a config may set, and what
// each takes, as the kernel reads it (Documentation/admin-guide/cgroup-v2.rst and the v1 docs).
// LXC 5.0.2 checks neither: it writes the value at start, and a misspelt file or a value the
// kernel refuses fails the start there ("Failed to setup limits"), with no line. corral checks
// both while parsing, so that checkConfig, create and start refuse it with its key and line. What
// passes here can still fail at start only if the host lacks the controller or the resource
// (a hierarchy not mounted, CPUs that do not exist), which the start then says.

/** Why a value is wrong, or undefined when the kernel would take it. */
type Check = (value: string) => string | undefined;

const SIZE = /^\d+[KMGTPE]?$/i;
const UINT = /^\d{1,19}$/;

const sizeOr = (unlimited: string, example: string): Check => (v) =>
  v === unlimited || SIZE.test(v) ? undefined : `is not a size in bytes with an optional K, M, G, T, P or E suffix (like ${example}), or "${unlimited}"`;

const range = (min: number, max: number, unlimited?: string): Check => (v) => {
  if (unlimited !== undefined && v === unlimited) return undefined;
  if (/^-?\d{1,19}$/.test(v) && Number(v) >= min && Number(v) <= max) return undefined;
  return `is not an integer from ${min} to ${max}${unlimited === undefined ? "" : ` or "${unlimited}"`}`;
};

const oneOf = (...words: string[]): Check => (v) => (words.includes(v) ? undefined : `is not one of ${words.map((w) => `"${w}"`).join(", ")}`);

/** The kernel's PIDS_MAX (PID_MAX_LIMIT + 1): pids.max takes less than that. */
const PIDS_LIMIT = 4_194_304;
/** cpu.max and cfs_quota_us/cfs_period_us bounds (kernel/sched/core.c: 1 ms to 1 s periods, quota at least 1 ms). */
const MIN_CFS_US = 1000;
const MAX_CFS_PERIOD_US = 1_000_000;

/** cpu.max: "$MAX [$PERIOD]", MAX a quota in µs or "max". */
const cpuMax: Check = (v) => {
  const m = /^(max|\d{1,19})(?:\s+(\d{1,19}))?$/.exec(v);
  const what = `is not a quota and period in microseconds like "50000 100000" or "max 100000" (quota at least ${MIN_CFS_US}, period ${MIN_CFS_US} to ${MAX_CFS_PERIOD_US})`;
  if (!m) return what;
  if (m[1] !== "max" && Number(m[1]) < MIN_CFS_US) return what;
  if (m[2] !== undefined && (Number(m[2]) < MIN_CFS_US || Number(m[2]) > MAX_CFS_PERIOD_US)) return what;
  return undefined;
};

/** cpuset.cpus and .mems: a list like "0-3,5" ("" empties it). */
const cpuList: Check = (v) => (/^(\d+(-\d+(:\d+\/\d+)?)?)(,\d+(-\d+(:\d+\/\d+)?)?)*$/.test(v) ? undefined : `is not a list of CPUs or nodes like "0-3,5"`);

/** "MAJ:MIN" of a block device. */
const DEVICE = String.raw`\d+:\d+`;

/** io.weight and io.bfq.weight: "[default|MAJ:MIN] WEIGHT". */
const ioWeight = (max: number): Check => (v) => {
  const m = new RegExp(`^(?:(?:default|${DEVICE})\\s+)?(\\d+)$`).exec(v);
  return m && Number(m[1]) >= 1 && Number(m[1]) <= max ? undefined : `is not a weight from 1 to ${max}, optionally after "default" or a device "MAJ:MIN"`;
};

/** io.max: "MAJ:MIN" then rbps= wbps= riops= wiops= with numbers or "max". */
const ioMax: Check = (v) => (new RegExp(`^${DEVICE}(\\s+(rbps|wbps|riops|wiops)=(\\d+|max))+$`).test(v) ? undefined : `is not a device and limits like "8:16 rbps=2097152 wiops=120"`);

/** devices.allow/deny: "a" or "TYPE MAJ:MIN ACCESS" (c, b or a; a number or *; r, w, m). */
const deviceRule: Check = (v) => (/^(a|[abc]\s+(\d+|\*):(\d+|\*)(\s+[rwm]{1,3})?)$/.test(v) ? undefined : `is not a device rule like "c 1:3 rwm" or "a"`);

/** "MAJ:MIN N" (v1 blkio's per-device files). */
const devicePair: Check = (v) => (new RegExp(`^${DEVICE}\\s+\\d+$`).test(v) ? undefined : `is not a device and a number like "8:0 1048576"`);

/** The files a config may write, per cgroup v2 controller. Others exist but are read-only or the host's. */
const V2: Readonly<Record<string, Readonly<Record<string, Check>>>> = {
  cgroup: {
    "max.descendants": range(0, 2 ** 31 - 1, "max"),
    "max.depth": range(0, 2 ** 31 - 1, "max"),
    // a container cannot start frozen: corral's freeze verb does it once it runs
    freeze: oneOf("0"),
    pressure: oneOf("0", "1"),
  },
  cpu: {
    weight: range(1, 10_000),
    "weight.nice": range(-20, 19),
    max: cpuMax,
    "max.burst": range(0, 2 ** 53),
    idle: oneOf("0", "1"),
    "uclamp.min": (v) => (v === "max" || /^\d{1,3}(\.\d{1,2})?$/.test(v) && Number(v) <= 100 ? undefined : `is not a percentage from 0 to 100 or "max"`),
    "uclamp.max": (v) => (v === "max" || /^\d{1,3}(\.\d{1,2})?$/.test(v) && Number(v) <= 100 ? undefined : `is not a percentage from 0 to 100 or "max"`),
  },
  memory: {
    min: sizeOr("max", "64M"),
    low: sizeOr("max", "64M"),
    high: sizeOr("max", "512M"),
    max: sizeOr("max", "512M"),
    "swap.high": sizeOr("max", "256M"),
    "swap.max": sizeOr("max", "256M"),
    "zswap.max": sizeOr("max", "256M"),
    "zswap.writeback": oneOf("0", "1"),
    "oom.group": oneOf("0", "1"),
  },
  pids: { max: range(0, PIDS_LIMIT, "max") },
  cpuset: { cpus: cpuList, mems: cpuList, "cpus.exclusive": cpuList, "cpus.partition": oneOf("member", "root", "isolated") },
  io: { weight: ioWeight(10_000), "bfq.weight": ioWeight(1000), max: ioMax, latency: (v) => (new RegExp(`^${DEVICE}\\s+target=(\\d+|max)$`).test(v) ? undefined : `is not a device and target like "8:16 target=75"`) },
  // LXC sets these through an eBPF program on v2; corral writes them where v1 devices is mounted
  devices: { allow: deviceRule, deny: deviceRule },
  misc: { max: (v) => (/^[a-z_]+\s+(\d+|max)$/.test(v) ? undefined : `is not a resource and limit like "sev 1"`) },
  rdma: { max: (v) => (/^\S+(\s+(hca_handle|hca_object)=(\d+|max))+$/.test(v) ? undefined : `is not a device and limits like "mlx4_0 hca_handle=2 hca_object=2000"`) },
};

const V1_MEMORY_SIZE = sizeOr("-1", "512M");

/** The same for cgroup v1 hierarchies (lxc.cgroup.*). */
const V1: Readonly<Record<string, Readonly<Record<string, Check>>>> = {
  memory: {
    limit_in_bytes: V1_MEMORY_SIZE,
    soft_limit_in_bytes: V1_MEMORY_SIZE,
    "memsw.limit_in_bytes": V1_MEMORY_SIZE,
    "kmem.limit_in_bytes": V1_MEMORY_SIZE,
    "kmem.tcp.limit_in_bytes": V1_MEMORY_SIZE,
    swappiness: range(0, 100),
    oom_control: oneOf("0", "1"),
    use_hierarchy: oneOf("0", "1"),
    move_charge_at_immigrate: range(0, 3),
  },
  cpu: {
    // any number: the kernel keeps it within 2 to 262144
    shares: range(0, 2 ** 53),
    cfs_quota_us: (v) => (v === "-1" || (UINT.test(v) && Number(v) >= MIN_CFS_US) ? undefined : `is not a quota in microseconds of at least ${MIN_CFS_US}, or -1`),
    cfs_period_us: range(MIN_CFS_US, MAX_CFS_PERIOD_US),
    cfs_burst_us: range(0, 2 ** 53),
    rt_runtime_us: range(-1, 2 ** 53),
    rt_period_us: range(1, 2 ** 53),
  },
  cpuset: {
    cpus: cpuList, mems: cpuList,
    cpu_exclusive: oneOf("0", "1"), mem_exclusive: oneOf("0", "1"), mem_hardwall: oneOf("0", "1"),
    memory_migrate: oneOf("0", "1"), memory_spread_page: oneOf("0", "1"), memory_spread_slab: oneOf("0", "1"),
    sched_load_balance: oneOf("0", "1"), sched_relax_domain_level: range(-1, 5),
  },
  pids: { max: range(0, PIDS_LIMIT, "max") },
  devices: { allow: deviceRule, deny: deviceRule },
  blkio: {
    weight: range(10, 1000), "bfq.weight": range(1, 1000), weight_device: devicePair, leaf_weight: range(10, 1000),
    "throttle.read_bps_device": devicePair, "throttle.write_bps_device": devicePair,
    "throttle.read_iops_device": devicePair, "throttle.write_iops_device": devicePair,
  },
  // a container cannot start frozen: corral's freeze verb does it once it runs
  freezer: { state: oneOf("THAWED") },
  net_cls: { classid: (v) => (/^(\d{1,10}|0x[0-9a-f]{1,8})$/i.test(v) && Number(v) <= 0xffffffff ? undefined : "is not a class id (a 32-bit number, decimal or 0x hex)") },
  net_prio: { ifpriomap: (v) => (/^[^\s/:]{1,15}\s+\d+$/.test(v) ? undefined : `is not an interface and a priority like "eth0 5"`) },
};

/** hugetlb.<size>.max (v2), hugetlb.<size>.limit_in_bytes (v1), and their .rsvd twins. */
function hugetlb(version: 1 | 2, file: string): Check | undefined {
  const suffix = version === 2 ? "max" : "limit_in_bytes";
  if (!new RegExp(`^hugetlb\\.\\d+[KMG]B\\.(rsvd\\.)?${suffix.replace(/\./g, "\\.")}$`).test(file)) return undefined;
  return version === 2 ? sizeOr("max", "1G") : V1_MEMORY_SIZE;
}

/**
 * Why `lxc.cgroup[2].FILE = value` cannot work, or undefined when it can (on a host that has the
 * controller). FILE is "controller.rest", as in the key.
 */
export function cgroupSettingProblem(version: 1 | 2, file: string, value: string): string | undefined {
  const table = version === 2 ? V2 : V1;
  const dot = file.indexOf(".");
  const controller = dot < 0 ? file : file.slice(0, dot);
  const check = table[controller]?.[file.slice(dot + 1)] ?? (controller === "hugetlb" ? hugetlb(version, file) : undefined);
  if (!check) {
    const family = version === 2 ? "cgroup v2" : "cgroup v1";
    const near = Object.entries(table).flatMap(([c, files]) => Object.keys(files).map((f) => `${c}.${f}`)).filter((k) => editDistance(k, file) <= 2);
    const meant = near.length ? ` (did you mean ${near.join(" or ")}?)` : "";
    const cannot = `cannot set ${JSON.stringify(value)}`;
    if (!Object.hasOwn(table, controller) && controller !== "hugetlb") {
      return `${cannot}: "${controller}" is not a ${family} controller${meant || ` (${Object.keys(table).concat("hugetlb").sort().join(", ")})`}`;
    }
    const known = Object.keys(table[controller] ?? {}).map((f) => `${controller}.${f}`);
    return `${cannot}: "${file}" is not a file of the ${family} ${controller} controller that a config can set${meant || (known.length ? ` (it has ${known.join(", ")})` : "")}`;
  }
  const problem = check(value.trim());
  return problem === undefined ? undefined : `${JSON.stringify(value)} ${problem}`;
}

/** Levenshtein distance, for "did you mean": small strings only. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}
