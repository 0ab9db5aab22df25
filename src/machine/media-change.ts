// The monitor's `eject [-f] DEV` and `change DEV FILE`, as QEMU 7.2's qmp_eject and
// qmp_blockdev_change_medium run them on the board's drives: open the tray (a locked
// tray is asked to open and refuses unless forced), take the medium out, put the new one
// in, close the tray. A CD-ROM (ide-cd) has a tray and a lock the guest sets; a floppy
// drive has neither, and sees only its disk-change line. The medium taken out is flushed
// and closed, which lets go of its image lock.
import { SECTOR_SIZE, type TrackedImage } from '../block/block-image.js';
import { floppyFormat } from '../devices/fdc.js';
import { UserError } from '../user-error.js';
import { driveName, type DriveConfig, type PcMachine } from './pc-machine.js';

/** A monitor command that QEMU would answer with an error: its message, QEMU's words. */
export class MediaChangeError extends UserError {}

interface Removable {
  drive: DriveConfig;
  hasTray: boolean;
  trayOpen(): boolean;
  locked(): boolean;
  ejectRequest(force: boolean): void;
  /** QEMU's blk_dev_change_media_cb. */
  changeMediaCb(load: boolean): void;
  setMedium(image: TrackedImage | null): void;
}

function removable(m: PcMachine, name: string): Removable {
  const drive = m.drives.find((d) => driveName(d) === name);
  if (!drive) throw new MediaChangeError(`Device '${name}' not found`);
  if (drive.bus === 'floppy') {
    const fdc = m.fdc;
    return {
      drive, hasTray: false, trayOpen: () => false, locked: () => false, ejectRequest: () => {},
      // fd_change_cb: the disk-change line goes up whenever a medium comes or goes.
      changeMediaCb: () => fdc.changeMedium(drive.unit, drive.image, drive.image ? floppyFormat(drive.image.sectors * SECTOR_SIZE) : null),
      setMedium: (image) => {
        drive.image = image;
      },
    };
  }
  if (drive.media !== 'cdrom') throw new MediaChangeError(`Device '${name}' is not removable`);
  const ch = m.ide.channels[(drive.unit >> 1) as 0 | 1];
  const u = drive.unit & 1;
  return {
    drive, hasTray: true, trayOpen: () => ch.trayOpen(u), locked: () => ch.trayLocked(u),
    ejectRequest: (force) => ch.ejectRequest(u, force),
    changeMediaCb: (load) => ch.changeMedia(u, load),
    setMedium: (image) => {
      drive.image = image;
      ch.setMedium(u, image);
    },
  };
}

/** QEMU's do_open_tray: false when a locked tray was only asked to open. */
function openTray(r: Removable, force: boolean): boolean {
  if (!r.hasTray || r.trayOpen()) return true;
  const locked = r.locked();
  if (locked) r.ejectRequest(force);
  if (!locked || force) r.changeMediaCb(false);
  return !locked || force;
}

function lockedError(name: string): MediaChangeError {
  return new MediaChangeError(`Device '${name}' is locked and force was not specified, wait for tray to open and try again`);
}

/** Take the medium out (QEMU's blockdev_remove_medium): flushed, closed, its lock released. */
function removeMedium(r: Removable): void {
  const img = r.drive.image;
  if (!img) return;
  r.setMedium(null);
  if (!r.hasTray) r.changeMediaCb(false);
  img.flush();
  img.backend.close();
}

/** `eject [-f] DEV`. */
export function ejectMedium(m: PcMachine, name: string, force: boolean): void {
  const r = removable(m, name);
  if (!openTray(r, force)) throw lockedError(name);
  removeMedium(r);
}

/**
 * `change DEV FILE`: `open` opens the new medium (read-only for a CD-ROM) only once the
 * drive is known to take it; a medium a floppy drive cannot read is refused before
 * anything changes.
 */
export function changeMedium(m: PcMachine, name: string, open: (readOnly: boolean) => TrackedImage): void {
  const r = removable(m, name);
  const image = open(r.drive.media === 'cdrom');
  try {
    if (r.drive.bus === 'floppy' && !floppyFormat(image.sectors * SECTOR_SIZE)) {
      throw new MediaChangeError(`${image.backend.name}: ${image.sectors * SECTOR_SIZE} bytes is not a floppy size bmbt-dbg knows (1474560, 2949120 or 737280)`);
    }
    if (!openTray(r, false)) throw lockedError(name);
  } catch (e) {
    image.backend.close();
    throw e;
  }
  removeMedium(r);
  r.setMedium(image);
  if (!r.hasTray) r.changeMediaCb(true);
  // qmp_blockdev_close_tray
  else if (r.trayOpen()) r.changeMediaCb(true);
}
