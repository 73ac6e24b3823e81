// The product's name, version and address, as printed by --version and the output writers.
export const PRODUCT = 'ferroscan';
export const VERSION = '0.1.0';
export const URL = 'https://github.com/ferroscan';
