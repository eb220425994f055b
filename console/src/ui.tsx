import { type ReactNode, useEffect, useRef, useState } from 'react';
import { SigningIn } from './gateway';

/** The states every page shows the same way: loading, error (with a retry), empty. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="state" role="status">
      Loading {what}…
    </p>
  );
}

export function Problem({ error, retry }: { error: Error; retry?: () => void }) {
  if (error instanceof SigningIn) {
    return (
      <p className="state" role="status">
        Your session ended: signing you in again…
      </p>
    );
  }
  return (
    <div className="state error" role="alert">
      <p>{error.message}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

/** Whether a page was shown yet: the first one after a full load keeps the browser's own focus. */
let navigated = false;

/**
 * Page shell: one h1 per page, and after an in-app navigation focus moves to it, so screen readers
 * announce the new page (a full load leaves focus at the start, where Tab reaches the skip link first).
 */
export function Page({ title, children }: { title: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · callgate console`;
    if (navigated) heading.current?.focus();
    navigated = true;
  }, [title]);
  return (
    <>
      <h1 tabIndex={-1} ref={heading}>
        {title}
      </h1>
      {children}
    </>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | undefined>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
  };
  return (
    <>
      <button type="button" onClick={copy} aria-label={label}>
        Copy
      </button>
      <span role="status" className="copied">
        {copied === 'yes' ? 'Copied' : copied === 'no' ? 'Copy failed: select the text and copy it' : ''}
      </span>
    </>
  );
}

export const credits = (n: number | undefined) =>
  n === undefined ? '—' : `${n.toLocaleString('en-US')} ${Math.abs(n) === 1 ? 'credit' : 'credits'}`;

export const when = (iso: string | null | undefined) => {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
};

export const duration = (seconds: number) =>
  `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

/** A field's label, input and the gateway's message for it, tied together for assistive technology. */
export function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  children: ReactNode;
}) {
  return (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

/** aria props for an input inside <Field>. */
export const described = (id: string, error?: string, hint?: string) => ({
  id,
  'aria-invalid': error ? true : undefined,
  'aria-describedby': [error && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(' ') || undefined,
});

/** A refused form: the gateway's message, or, when it named fields, a pointer to the messages beside them. */
export function FormProblem({ error, fields }: { error: Error | undefined; fields: Record<string, string> }) {
  if (!error) return null;
  if (Object.keys(fields).length === 0) return <Problem error={error} />;
  return (
    <p className="state error" role="alert">
      The gateway refused {Object.keys(fields).length === 1 ? 'a field' : 'some fields'}: see the message
      {Object.keys(fields).length === 1 ? '' : 's'} beside {Object.keys(fields).length === 1 ? 'it' : 'them'}.
    </p>
  );
}
