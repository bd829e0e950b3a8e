// Globals the content script's own modules publish (classic scripts, on globalThis).

interface BackgroneRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

interface BackgronePlacement {
  placeBox(
    box: { width: number; height: number },
    image: BackgroneRect,
    view: { width: number; height: number },
    taken?: BackgroneRect[],
  ): BackgroneRect & { where: 'below' | 'above' | 'right' | 'left' | 'inside' };
  placeToast(box: { width: number; height: number }, view: { width: number; height: number }, taken?: BackgroneRect[]): BackgroneRect;
  overlaps(a: BackgroneRect, b: BackgroneRect): boolean;
  GAP: number;
  MARGIN: number;
}

interface BackgroneStageView {
  text: string;
  fraction: number | null;
  expectedMs: number | null;
  stage: string;
}

interface BackgroneStageWords {
  stageWords(stage: string | null, engine: string | null | undefined, t: (key: string, ...subs: any[]) => string): string;
  stageView(
    progress: { stage: string; engine?: string; loaded?: number; total?: number; position?: number; expectedMs?: number },
    t: (key: string, ...subs: (string | number)[]) => string,
  ): BackgroneStageView | null;
  firstWords(t: (key: string) => string): string;
  towardEstimate(elapsedMs: number, expectedMs: number): number;
  jobFraction(base: number, stageFraction: number): number;
  STAGE_KEYS: Record<string, string>;
  CAP: number;
  STAGE_SHARE: number;
}

interface BackgronePageImage {
  absolute(url: string): string;
  shows(img: HTMLImageElement, target: string): boolean;
  findImage(srcUrl: string): HTMLImageElement | null;
  isCutOut(img: HTMLImageElement): boolean;
  rememberOriginal(img: HTMLImageElement): void;
  keepObjectUrl(img: HTMLImageElement, url: string): string | null;
  swap(img: HTMLImageElement, url: string, pixelWidth: number): Promise<void>;
  restore(img: HTMLImageElement): void;
  forgetStale(img: HTMLImageElement): boolean;
  failedToLoad(img: HTMLImageElement): Promise<boolean>;
}

interface BackgroneJobHandle {
  postMessage(m: unknown): void;
  disconnect(): void;
}

interface BackgroneJobPort {
  openJobPort(
    jobId: string,
    srcUrl: string,
    img: HTMLImageElement,
    on: { heard: () => void; status: (p: any) => void; done: (done: any, cutOut: Blob | null) => void; refined: (refined: any, cutOut: Blob | null) => void; failed: (error: string) => void; closed: () => void },
  ): BackgroneJobHandle;
}

declare var BackgronePlacement: BackgronePlacement;
declare var BackgroneStageWords: BackgroneStageWords;
declare var BackgronePageImage: BackgronePageImage;
declare var BackgroneJobPort: BackgroneJobPort;

/** lib/messages.js's BlobAssembler: pieces in order into a Blob (the content script's cut-out). */
interface BackgroneBlobAssembler {
  limit: number;
  total: number | null;
  got: number;
  add(piece: BackgronePiece): Blob | null;
}

interface BackgroneMessages {
  readonly BlobAssembler: (new (limit: number) => BackgroneBlobAssembler) & { GROUP_BYTES: number };
}
