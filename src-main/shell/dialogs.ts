/** Native folder and image pickers for system.pickFolder / system.pickImage. */
import { BrowserWindow, dialog, type OpenDialogOptions } from 'electron'
import type { Pickers } from '../services/system'

/** Image file extensions offered by the image picker. */
export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'bmp', 'tif', 'tiff']

async function pick(options: OpenDialogOptions): Promise<string | null> {
  const win = BrowserWindow.getFocusedWindow()
  const result = win
    ? await dialog.showOpenDialog(win, options)
    : await dialog.showOpenDialog(options)
  return result.canceled || result.filePaths.length === 0 ? null : result.filePaths[0]
}

/** Pickers backed by Electron's dialog module. */
export function electronPickers(): Pickers {
  return {
    pickFolder: () => pick({ title: 'Choose a dataset folder', properties: ['openDirectory'] }),
    pickImage: () =>
      pick({
        title: 'Choose an image',
        properties: ['openFile'],
        filters: [{ name: 'Images', extensions: IMAGE_EXTENSIONS }]
      })
  }
}
