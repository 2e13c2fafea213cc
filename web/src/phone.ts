import { onBeforeUnmount, ref, type Ref } from "vue";

/** True while the window is phone-width (under 768px); follows resizing. */
export function usePhone(): Ref<boolean> {
  const query = window.matchMedia("(max-width: 767px)");
  const phone = ref(query.matches);
  const update = (e: MediaQueryListEvent) => (phone.value = e.matches);
  query.addEventListener("change", update);
  onBeforeUnmount(() => query.removeEventListener("change", update));
  return phone;
}
