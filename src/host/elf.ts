// Tiny ELF header reads: is it a 64-bit ELF, and is it static (no PT_INTERP program header)?
import { closeSync, openSync, readSync } from 'node:fs';

const PT_INTERP = 3;

export interface ElfInfo {
  readonly isElf64: boolean;
  readonly isStatic: boolean;
}

export function readElfInfo(path: string): ElfInfo {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(64);
    readSync(fd, head, 0, 64, 0);
    if (head.toString('latin1', 0, 4) !== '\x7fELF' || head[4] !== 2)
      return { isElf64: false, isStatic: false };
    const phoff = Number(head.readBigUInt64LE(0x20));
    const phentsize = head.readUInt16LE(0x36);
    const phnum = head.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      if (table.readUInt32LE(i * phentsize) === PT_INTERP) return { isElf64: true, isStatic: false };
    }
    return { isElf64: true, isStatic: true };
  } finally {
    closeSync(fd);
  }
}
