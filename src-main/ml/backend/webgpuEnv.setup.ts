/**
 * Vitest setup (every test file): the WebGPU test environment (see webgpuEnv.testutil.ts), so
 * that processes the tests start (trainer, CLI) probe Chromium's SwiftShader adapter the same
 * way everywhere, instead of whatever Vulkan drivers the machine has (which can print driver
 * warnings into the CLI's stderr).
 */
import { webgpuTestEnv } from './webgpuEnv.testutil'

webgpuTestEnv()
