// A test-only classic BPF interpreter for seccomp programs: enough of the instruction set to
// run what compileSeccomp emits, strict about everything else.

import { BPF, type BpfInstruction } from "../src/index.ts";

export interface SeccompData {
  nr: number;
  arch: number;
  args?: bigint[];
}

function word(data: SeccompData, offset: number): number {
  if (offset === 0) return data.nr >>> 0;
  if (offset === 4) return data.arch >>> 0;
  if (offset >= 16 && offset < 64 && offset % 4 === 0) {
    const arg = data.args?.[Math.floor((offset - 16) / 8)] ?? 0n;
    return Number(offset % 8 === 0 ? arg & 0xffffffffn : (arg >> 32n) & 0xffffffffn);
  }
  throw new Error(`load from unexpected seccomp_data offset ${offset}`);
}

export function runFilter(filter: readonly BpfInstruction[], data: SeccompData): number {
  let a = 0;
  for (let pc = 0; pc < filter.length; pc++) {
    const insn = filter[pc];
    if (!insn) break;
    const jump = (cond: boolean): void => void (pc += cond ? insn.jt : insn.jf);
    switch (insn.code) {
      case BPF.LD_W_ABS: a = word(data, insn.k); break;
      case BPF.ALU_AND_K: a = (a & insn.k) >>> 0; break;
      case BPF.JMP_JA: pc += insn.k; break;
      case BPF.JMP_JEQ_K: jump(a === insn.k >>> 0); break;
      case BPF.JMP_JGT_K: jump(a > insn.k >>> 0); break;
      case BPF.JMP_JGE_K: jump(a >= insn.k >>> 0); break;
      case BPF.JMP_JSET_K: jump((a & insn.k) !== 0); break;
      case BPF.RET_K: return insn.k >>> 0;
      default: throw new Error(`unexpected BPF opcode 0x${insn.code.toString(16)} at ${pc}`);
    }
  }
  throw new Error("the program ran off its end without returning");
}
