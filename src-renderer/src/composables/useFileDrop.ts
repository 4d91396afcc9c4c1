import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'

/**
 * Files dropped anywhere on the window: `dragging` is true while files are held over it, and
 * `onFile` receives the first dropped file. Listeners live as long as the calling component.
 */
export function useFileDrop(onFile: (file: File) => void): { dragging: Ref<boolean> } {
  const dragging = ref(false)
  let depth = 0
  const hasFiles = (e: DragEvent): boolean => !!e.dataTransfer?.types.includes('Files')
  function onEnter(e: DragEvent): void {
    if (!hasFiles(e)) return
    depth++
    dragging.value = true
  }
  function onLeave(): void {
    depth = Math.max(0, depth - 1)
    if (!depth) dragging.value = false
  }
  function onOver(e: DragEvent): void {
    if (hasFiles(e)) e.preventDefault()
  }
  function onDrop(e: DragEvent): void {
    e.preventDefault()
    depth = 0
    dragging.value = false
    const f = e.dataTransfer?.files?.[0]
    if (f) onFile(f)
  }
  onMounted(() => {
    window.addEventListener('dragenter', onEnter)
    window.addEventListener('dragleave', onLeave)
    window.addEventListener('dragover', onOver)
    window.addEventListener('drop', onDrop)
  })
  onBeforeUnmount(() => {
    window.removeEventListener('dragenter', onEnter)
    window.removeEventListener('dragleave', onLeave)
    window.removeEventListener('dragover', onOver)
    window.removeEventListener('drop', onDrop)
  })
  return { dragging }
}
