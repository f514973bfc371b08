using System.Text.RegularExpressions;

namespace RxHttp.Tests.Support;

/// <summary>A piece of C# taken from README.md: a fenced block or the RxHttp cell of a comparison table row.</summary>
/// <param name="Line">README's line number (1-based) of the block's first line of code.</param>
/// <param name="Code">The code, with README's line breaks, so a line of it maps to <c>Line + index</c>.</param>
/// <param name="Runnable">The fence said <c>csharp runnable</c>: the test runs it against the demo server.</param>
/// <param name="Prelude">The fence said <c>csharp prelude</c>: the usings and placeholders every other block gets.</param>
/// <param name="ExpectedOutput">The <c>text output</c> block right after a runnable block: what it must print.</param>
/// <param name="FromTable">Taken from a table row's RxHttp cell rather than a fenced block.</param>
public sealed record ReadmeBlock(int Line, string Code, bool Runnable, bool Prelude, string? ExpectedOutput, bool FromTable)
{
    public override string ToString() => $"README.md line {Line}{(FromTable ? " (table row)" : "")}";
}

/// <summary>Finds the C# of a README: every <c>```csharp</c> fence, and every code span in the last column of a
/// table whose last header is <c>RxHttp</c> (a row's spans form one block).</summary>
public static class ReadmeBlocks
{
    // CommonMark: up to three spaces, three or more backticks, and an info string without backticks (a line like
    // "```` ```text ```` is inline code" is not a fence).
    private static readonly Regex Fence = new(@"^ {0,3}```+[ \t]*([^`\s]*)([^`]*)$");
    private static readonly Regex CodeSpan = new(@"`((?:[^`\\]|\\.)+)`");

    public static IReadOnlyList<ReadmeBlock> Extract(string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        var blocks = new List<ReadmeBlock>();
        for (var i = 0; i < lines.Length; i++)
        {
            var open = Fence.Match(lines[i]);
            if (open.Success)
            {
                var end = i + 1;
                while (end < lines.Length && !lines[end].TrimStart().StartsWith("```")) end++;
                var language = open.Groups[1].Value;
                var words = open.Groups[2].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (language is "csharp" or "cs" or "c#")
                {
                    var code = string.Join("\n", lines[(i + 1)..Math.Min(end, lines.Length)]);
                    var runnable = words.Contains("runnable");
                    blocks.Add(new ReadmeBlock(i + 2, code, runnable, words.Contains("prelude"),
                        runnable ? OutputAfter(lines, end + 1) : null, FromTable: false));
                }
                i = end;
                continue;
            }
            if (IsRxHttpTableHeader(lines, i))
            {
                for (i += 2; i < lines.Length && lines[i].TrimStart().StartsWith('|'); i++)
                {
                    var cells = SplitRow(lines[i]);
                    var spans = CodeSpan.Matches(cells[^1]).Select(m => m.Groups[1].Value.Replace("\\|", "|")).ToList();
                    if (spans.Count > 0) blocks.Add(new ReadmeBlock(i + 1, string.Join(" ", spans), false, false, null, FromTable: true));
                }
            }
        }
        return blocks;
    }

    // A ```text output fence right after a runnable block (blank lines between allowed): what the block prints.
    private static string? OutputAfter(string[] lines, int from)
    {
        var i = from;
        while (i < lines.Length && lines[i].Trim().Length == 0) i++;
        if (i >= lines.Length) return null;
        var open = Fence.Match(lines[i]);
        if (!open.Success || open.Groups[1].Value != "text" || !open.Groups[2].Value.Split(' ').Contains("output")) return null;
        var end = i + 1;
        while (end < lines.Length && !lines[end].TrimStart().StartsWith("```")) end++;
        return string.Join("\n", lines[(i + 1)..end]);
    }

    private static bool IsRxHttpTableHeader(string[] lines, int i) =>
        lines[i].TrimStart().StartsWith('|') && i + 1 < lines.Length && Regex.IsMatch(lines[i + 1], @"^\s*\|[\s\-:|]+\|\s*$")
        && SplitRow(lines[i])[^1].Trim() == "RxHttp";

    // Splits a table row on the | that are not escaped (\|), as GitHub does (even inside a code span).
    private static string[] SplitRow(string row)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var text = row.Trim();
        if (text.StartsWith('|')) text = text[1..];
        if (text.EndsWith('|') && !text.EndsWith("\\|")) text = text[..^1];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\\' && i + 1 < text.Length && text[i + 1] == '|') { cell.Append("\\|"); i++; continue; }
            if (c == '|') { cells.Add(cell.ToString()); cell.Clear(); continue; }
            cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells.ToArray();
    }
}
