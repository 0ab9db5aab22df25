// QEMU's firmware-table files on fw_cfg (hw/i386/acpi-build.c acpi_setup, as measured on
// QEMU 7.2): the ACPI tables, the RSDP and the loader script; "etc/system-states" (which
// sleep states the DSDT offers: S3 = 1, S4 = 2, S5 = 0, bit 7 = enabled); "etc/tpm/log",
// the TPM event log, empty without a TPM (QEMU lists it anyway, and SeaBIOS allocates a
// directory entry for every file, so its memory layout depends on it); and the legacy
// FW_CFG_HPET item describing the HPET block.
import { FW_CFG_HPET, type FwCfg } from '../devices/fw-cfg.js';
import { HPET_BASE, HPET_CAPABILITIES } from '../devices/hpet.js';
import type { AcpiBuild } from './tables.js';

export const SYSTEM_STATES_FILE = 'etc/system-states';
export const TPM_LOG_FILE = 'etc/tpm/log';

export function serveAcpiTables(fwCfg: FwCfg, build: AcpiBuild): void {
  for (const [name, data] of build.files) fwCfg.addFile(name, data);
  // S0 on, S1 and S2 absent, S3 = SLP_TYP 1, S4 = 2, S5 = 0.
  fwCfg.addFile(SYSTEM_STATES_FILE, Uint8Array.of(0x80, 0x00, 0x00, 0x81, 0x82, 0x80));
  fwCfg.addFile(TPM_LOG_FILE, new Uint8Array(0));
  // struct hpet_fw_config: count, then 8 packed entries {u32 id, u64 address, u16 min tick, u8 flags}.
  const hpet = new Uint8Array(1 + 8 * 15);
  const dv = new DataView(hpet.buffer);
  hpet[0] = 1;
  dv.setUint32(1, HPET_CAPABILITIES, true);
  dv.setUint32(5, HPET_BASE, true);
  fwCfg.addBytes(FW_CFG_HPET, hpet);
}
