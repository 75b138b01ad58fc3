/**
 * Size an element to reach from where it starts to the bottom of the window, so the chat's
 * composer sits at the bottom of the screen and only the messages scroll. The shell's header
 * above differs in height (one row on a wide screen, more on a phone), so it is measured
 * rather than assumed.
 */
import { type RefObject, useLayoutEffect } from "react";

/** Below this the page scrolls instead (a very short window). */
const MIN_HEIGHT_PX = 416;

export function useFillViewport(ref: RefObject<HTMLElement | null>, bottomGapPx: number): void {
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const fit = () => {
      const top = element.getBoundingClientRect().top + window.scrollY;
      element.style.height = `${Math.max(MIN_HEIGHT_PX, window.innerHeight - top - bottomGapPx)}px`;
    };
    fit();
    window.addEventListener("resize", fit);
    const header = document.querySelector("header");
    const observer = new ResizeObserver(fit);
    if (header) observer.observe(header);
    return () => {
      window.removeEventListener("resize", fit);
      observer.disconnect();
    };
  }, [ref, bottomGapPx]);
}
