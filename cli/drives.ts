// The drives of the command line: each image opened (read-only unless the guest may
// write it), checked and locked (src/block/file-image.ts), under -snapshot behind an
// overlay in memory; and the process's signals made to flush them before it ends.
import type { DriveSpec } from './options.js';
import type { DriveConfig, PcMachine } from '../src/machine/pc-machine.js';
import { FileImage } from '../src/block/file-image.js';
import { onTerminatingSignal } from './signal-exit.js';
import { OverlayBackend, TrackedImage, type BlockBackend } from '../src/block/block-image.js';

export function openDrives(specs: DriveSpec[], snapshot: boolean): DriveConfig[] {
  const opened: FileImage[] = [];
  try {
    return specs.map((d) => {
      const overlay = snapshot || d.snapshot;
      if (d.path === '') return { bus: d.interface, unit: d.unit, media: d.media, image: null, snapshot: overlay };
      const file = FileImage.open(d.path, { what: d.what, writable: !overlay && !d.readOnly, format: d.format });
      opened.push(file);
      const backend: BlockBackend = overlay ? new OverlayBackend(file) : file;
      return { bus: d.interface, unit: d.unit, media: d.media, image: new TrackedImage(backend), snapshot: overlay };
    });
  } catch (e) {
    for (const f of opened) f.close();
    throw e;
  }
}

/**
 * SIGINT, SIGTERM and SIGHUP end the process without its exit handlers: flush and close
 * the images first (signal-exit.ts ends the process as the signal would).
 */
export function closeImagesOnSignals(machine: PcMachine): void {
  if (machine.drives.length === 0) return;
  onTerminatingSignal(() => {
    // The media in the drives when the signal comes (the monitor may have changed them).
    for (const img of machine.images()) {
      try {
        img.flush();
        img.backend.close();
      } catch {
        /* the process is ending: nothing more can be done for this image */
      }
    }
  });
}
