// Classic BPF, as seccomp(2) takes it (struct sock_filter, <linux/filter.h>), and a tiny
// assembler with labels so that the compiler never counts jump offsets by hand.

export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const BPF = {
  LD_W_ABS: 0x20, // A = u32 at offset k of seccomp_data
  ALU_AND_K: 0x54, // A &= k
  JMP_JA: 0x05,
  JMP_JEQ_K: 0x15,
  JMP_JGT_K: 0x25,
  JMP_JGE_K: 0x35,
  JMP_JSET_K: 0x45,
  RET_K: 0x06,
} as const;

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** A jump target: a label name, or "next" (fall through). */
export type Target = string;
export const NEXT: Target = "next";

type PendingInstruction = { code: number; k: number; jt: Target; jf: Target };

export class BpfAssembler {
  private readonly code: PendingInstruction[] = [];
  private readonly labels = new Map<string, number>();
  private labelCount = 0;

  /** A fresh label name, unique in this program. */
  newLabel(hint: string): string {
    return `${hint}#${this.labelCount++}`;
  }

  label(name: string): void {
    if (this.labels.has(name)) throw new Error(`BPF label ${name} defined twice`);
    this.labels.set(name, this.code.length);
  }

  load(offset: number): void {
    this.code.push({ code: BPF.LD_W_ABS, k: offset, jt: NEXT, jf: NEXT });
  }

  and(mask: number): void {
    this.code.push({ code: BPF.ALU_AND_K, k: mask >>> 0, jt: NEXT, jf: NEXT });
  }

  jump(code: number, k: number, jt: Target, jf: Target): void {
    this.code.push({ code, k: k >>> 0, jt, jf });
  }

  ret(value: number): void {
    this.code.push({ code: BPF.RET_K, k: value >>> 0, jt: NEXT, jf: NEXT });
  }

  /** Resolve labels into the forward offsets classic BPF needs (0..255). */
  finish(): BpfInstruction[] {
    return this.code.map((insn, i) => ({
      code: insn.code,
      k: insn.k,
      jt: this.offset(insn.jt, i),
      jf: this.offset(insn.jf, i),
    }));
  }

  private offset(target: Target, from: number): number {
    if (target === NEXT) return 0;
    const to = this.labels.get(target);
    if (to === undefined) throw new Error(`BPF label ${target} is never defined`);
    const offset = to - from - 1;
    if (offset < 0 || offset > 255) throw new Error(`BPF jump to ${target} is out of range (${offset})`);
    return offset;
  }
}

/** struct sock_filter[] as the kernel reads it: u16 code, u8 jt, u8 jf, u32 k, little-endian. */
export function serializeFilter(filter: readonly BpfInstruction[]): Uint8Array {
  const bytes = new Uint8Array(filter.length * 8);
  const view = new DataView(bytes.buffer);
  filter.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, true);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k >>> 0, true);
  });
  return bytes;
}
