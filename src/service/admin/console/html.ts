// The console's HTML templating lives in core (the gateway portal renders with it too).
export * from '../../../core/html.ts';
