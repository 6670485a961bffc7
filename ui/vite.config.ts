import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API to a `weft serve` on the default port.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false, chunkSizeWarningLimit: 2000 },
  worker: { format: "es" },
  server: { proxy: { "/api": "http://127.0.0.1:6789" } },
  test: { include: ["src/**/*.test.ts"] },
});
