// Asking why, before a decision that is recorded with its reason (a discard, a
// dismissal, an early end): 1 to 200 characters, trimmed; null when cancelled.
import { ElMessageBox } from "element-plus";
import { i18n } from "./i18n";

export async function askReason(message: string, title: string, placeholder?: string): Promise<string | null> {
  try {
    const { value } = await ElMessageBox.prompt(message, title, {
      inputValidator: (v: string) => (v.trim().length > 0 && v.length <= 200) || i18n.global.t("sweep.reasonRequired"),
      inputPlaceholder: placeholder,
      type: "warning",
    });
    return value.trim();
  } catch {
    return null;
  }
}
