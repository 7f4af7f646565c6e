export * from './observers.js';
export * from './calibrate.js';
