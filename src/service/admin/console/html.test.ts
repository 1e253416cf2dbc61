import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, html } from './html.ts';

// Called through another name so the formatter leaves the templates as written.
const h = html;

describe('console html', () => {
  it('escapes interpolated text, including quotes for attribute values', () => {
    const name = `"><script>alert('x')</script>`;
    assert.equal(
      h`<input value="${name}">`.value,
      '<input value="&#34;&#62;&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;">',
    );
  });

  it('keeps nested templates and arrays, drops null, undefined and false', () => {
    const items = ['a&b', 'c'].map((i) => h`<li>${i}</li>`);
    assert.equal(
      h`<ul>${items}${null}${undefined}${false}</ul>`.value,
      '<ul><li>a&#38;b</li><li>c</li></ul>',
    );
  });

  it('escapes backticks and equals signs too (unquoted-attribute safety)', () => {
    assert.equal(escapeHtml('`a=b`'), '&#96;a&#61;b&#96;');
  });
});
