import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

const backend = "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [vue()],
  server: {
    proxy: { "/api": backend, "/healthz": backend, "/readyz": backend },
  },
  build: {
    // The console is embedded in the binary: keep chunks few and named by content.
    chunkSizeWarningLimit: 1500,
  },
});
