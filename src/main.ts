import { serve } from './serve.js';

/** Entry point of `npm start`. */
void serve();
