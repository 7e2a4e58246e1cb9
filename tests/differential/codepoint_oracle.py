"""What MaestroNG 0.8.3 does with every Unicode code point, for
tests/tests/guestutils_codepoints.rs: how guestutils sanitises a
one-character name (`_to_env_var_name`) and what Python's `int()` makes of
`c + '1'` and `'1' + c` (how guestutils reads a port).

Prints lines, only where the answer is not the trivial one:

    unicode 14.0.0          the Unicode version of this Python
    skip A B                code points A..=B are not assigned in it
    under A B               every name character in A..=B becomes `_`
    name CP HEX...          the character's sanitised form, when it is
                            neither itself nor `_` (upper-casing)
    int CP LEAD TRAIL       int(c + '1') and int('1' + c), `-` when it raises;
                            only printed when one of them parses

Code points not listed keep their character as name and make int() raise.
Surrogates are skipped (they cannot be in the environment).
"""

import sys
import unicodedata

from maestro.guestutils import _to_env_var_name


def parse(text):
    try:
        return str(int(text))
    except ValueError:
        return '-'


def main():
    out = sys.stdout
    out.write('unicode {}\n'.format(unicodedata.unidata_version))
    runs = {'skip': None, 'under': None}

    def extend(kind, cp):
        run = runs[kind]
        if run is not None and run[1] == cp - 1:
            run[1] = cp
            return
        flush(kind)
        runs[kind] = [cp, cp]

    def flush(kind):
        run = runs[kind]
        if run is not None:
            out.write('{} {} {}\n'.format(kind, run[0], run[1]))
            runs[kind] = None

    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if unicodedata.category(c) == 'Cn':
            extend('skip', cp)
            continue
        name = _to_env_var_name(c)
        if name == '_' and c != '_':
            extend('under', cp)
        elif name != c:
            out.write('name {} {}\n'.format(cp, ' '.join('{:x}'.format(ord(x)) for x in name)))
        lead, trail = parse(c + '1'), parse('1' + c)
        if lead != '-' or trail != '-':
            out.write('int {} {} {}\n'.format(cp, lead, trail))
    flush('skip')
    flush('under')


if __name__ == '__main__':
    main()
