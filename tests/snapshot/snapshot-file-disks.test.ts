// savevm with --snapshot-file after the guest wrote to a drive (decisions.md 77): the file
// keeps, per snapshot, only the sectors whose contents then differ from the image as the
// file describes it, and a later run restores them onto that image (and refuses when
// the image was written since, by another program or a run that was killed).
import { describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { OverlayBackend, TrackedImage } from '../../src/block/block-image.js';
import { FileImage } from '../../src/block/file-image.js';
import { namedSnapshots } from '../../src/snapshot/named-snapshots.js';
import { scratchDir } from '../support/disk-images.js';

const SECTORS = 8192; // 4 MiB

/** A machine with `path` as its primary master (overlay: -snapshot). */
function machine(path: string, overlay = false): PcMachine {
  const file = FileImage.open(path, { what: '-hda', writable: !overlay, format: 'raw' });
  const image = new TrackedImage(overlay ? new OverlayBackend(file) : file);
  return new PcMachine({ memoryMiB: 16, drives: [{ bus: 'ide', unit: 0, media: 'disk', image, snapshot: overlay }] });
}

/** WRITE SECTORS (PIO) of one sector of `fill` bytes at `lba`, through the ports, as a guest does it. */
function ataWrite(m: PcMachine, lba: number, fill: number): void {
  m.io.write(0x1f6, 0xe0 | ((lba >> 24) & 0x0f), 1);
  m.io.write(0x1f2, 1, 1);
  m.io.write(0x1f3, lba & 0xff, 1);
  m.io.write(0x1f4, (lba >> 8) & 0xff, 1);
  m.io.write(0x1f5, (lba >> 16) & 0xff, 1);
  m.io.write(0x1f7, 0x30, 1);
  for (let i = 0; i < 256; i++) m.io.write(0x1f0, fill | (fill << 8), 2);
  expect(m.io.read(0x1f7, 1) & 0x89).toBe(0); // not busy, no DRQ, no error
}

function sector(path: string, lba: number): Uint8Array {
  return readFileSync(path).subarray(lba * 512, lba * 512 + 512);
}

/** The process ends: the file is brought up to date, the images closed. */
function exit(m: PcMachine): void {
  namedSnapshots(m).syncAtExit();
  for (const img of m.images()) img.backend.close();
}

function image(dir: string): string {
  const path = join(dir, 'disk.img');
  const b = new Uint8Array(SECTORS * 512);
  for (let i = 0; i < b.length; i++) b[i] = (i >> 9) & 0xff;
  writeFileSync(path, b);
  return path;
}

describe('--snapshot-file with drives the guest wrote', () => {
  it('savevm after writes is kept; a later run restores the disk the snapshot saw, from the changed sectors only', () => {
    const s = scratchDir('bmbt-snapdisk-');
    try {
      const disk = image(s.dir);
      const file = join(s.dir, 'snaps.bin');
      const orig20 = sector(disk, 20).slice();
      const a = machine(disk);
      namedSnapshots(a).openFile(file);
      ataWrite(a, 10, 0x11);
      namedSnapshots(a).save('s1');
      ataWrite(a, 10, 0x22);
      ataWrite(a, 20, 0x33);
      exit(a);
      expect(sector(disk, 10)[0]).toBe(0x22);
      const b = machine(disk);
      const shelf = namedSnapshots(b);
      shelf.openFile(file);
      // Two sectors differ between the snapshot and the image the file describes.
      expect(shelf.find('s1')!.snapshot.disks[0]!.size).toBe(2);
      shelf.load('s1');
      b.flushImages();
      expect([...sector(disk, 10)]).toEqual(new Array(512).fill(0x11));
      expect([...sector(disk, 20)]).toEqual([...orig20]);
      // The guest reads what the snapshot saw, through the drive.
      ataWrite(b, 30, 0x44);
      exit(b);
      // A third run: the file followed the second run's writes (its loadvm and LBA 30).
      const c = machine(disk);
      namedSnapshots(c).openFile(file);
      namedSnapshots(c).load('s1');
      c.flushImages();
      expect(sector(disk, 30)[0]).toBe(30);
      expect(sector(disk, 10)[0]).toBe(0x11);
      exit(c);
    } finally {
      s.done();
    }
  });

  it('refuses to load onto an image written after the file (a killed run, another program), in one line', () => {
    const s = scratchDir('bmbt-snapdisk-');
    try {
      const disk = image(s.dir);
      const file = join(s.dir, 'snaps.bin');
      const a = machine(disk);
      namedSnapshots(a).openFile(file);
      ataWrite(a, 10, 0x11);
      namedSnapshots(a).save('s1');
      ataWrite(a, 11, 0x22);
      // Killed: no exit handler ran.
      for (const img of a.images()) img.backend.close();
      const before = statSync(disk).mtimeMs;
      const b = machine(disk);
      namedSnapshots(b).openFile(file);
      expect(() => namedSnapshots(b).load('s1')).toThrow(/^Snapshot 's1' cannot be loaded: ide0-hd0's image .*disk\.img was written after the snapshot file was/);
      expect(statSync(disk).mtimeMs).toBe(before);
      expect(sector(disk, 11)[0]).toBe(0x22);
      for (const img of b.images()) img.backend.close();
    } finally {
      s.done();
    }
  });

  it('-snapshot: the file keeps the overlay\'s sectors; a later run puts them back in its own overlay, the image untouched', () => {
    const s = scratchDir('bmbt-snapdisk-');
    try {
      const disk = image(s.dir);
      const file = join(s.dir, 'snaps.bin');
      const a = machine(disk, true);
      namedSnapshots(a).openFile(file);
      ataWrite(a, 10, 0x11);
      namedSnapshots(a).save('s1');
      exit(a);
      const b = machine(disk, true);
      namedSnapshots(b).openFile(file);
      namedSnapshots(b).load('s1');
      const got = new Uint8Array(512);
      b.images()[0]!.read(10, 1, got);
      expect(got[0]).toBe(0x11);
      expect(sector(disk, 10)[0]).toBe(10);
      exit(b);
    } finally {
      s.done();
    }
  });
});
