// htm bound to Preact: tagged templates that build virtual DOM, never HTML strings, so
// every interpolated value is text (a title like "<script>" is shown, not run).
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
