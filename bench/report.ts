// What each benchmark returns: printable lines and the figures behind them.

export interface BenchReport {
  name: string;
  lines: string[];
  figures: Record<string, number>;
}
