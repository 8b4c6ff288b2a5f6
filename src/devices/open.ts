/**
 * openDeviceBackend(): the factory PageStore.open({compressor}) calls for a
 * device compressor name. Opening runs on a libuv pool thread (DPDK's EAL takes
 * a noticeable fraction of a second the first time).
 */
import { InvalidArgumentError } from '../errors.js'
import { DeviceBackend, type DeviceCompressBackend } from './device-backend.js'
import { fromNative } from './errors.js'
import { nativeDevices } from './native-devices.js'
import { parseDeviceName } from './names.js'
import { checkDeviceOptions, type OpenDeviceOptions } from './options.js'

export async function openDeviceBackend(name: string, options: OpenDeviceOptions): Promise<DeviceCompressBackend> {
  const parsed = parseDeviceName(name)
  if (!parsed) throw new InvalidArgumentError(`'${name}' is not a device compressor (see backends())`)
  const checked = checkDeviceOptions(name, parsed.kind, options)
  const api = nativeDevices()
  try {
    const engine = await api.openDevice({ ...checked, kind: parsed.kind, variant: parsed.variant, level: checked.level as number, maxBatch: options.maxBatch })
    return new DeviceBackend(engine, checked.level as number)
  } catch (err) {
    throw fromNative(name, err)
  }
}
