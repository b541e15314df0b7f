// Importers and exporters, one module per format (registry.ts lists them in sniffing order).
export {};
