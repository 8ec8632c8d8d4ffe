using System.Text.RegularExpressions;

namespace MLNetForgetting.Tests.Documentation;

/// <summary>
/// The documentation stands alone: its links resolve inside the repository (files and section anchors), it
/// speaks without issue numbers, and code comments cite sections of docs/methods.md that exist.
/// </summary>
[TestClass]
public sealed class DocumentationTests
{
    private static readonly Regex Link = new(@"!?\[[^\]]*\]\(([^)\s]+)\)", RegexOptions.Compiled);
    private static readonly Regex Fence = new(@"^\s*```.*?^\s*```", RegexOptions.Compiled | RegexOptions.Singleline | RegexOptions.Multiline);

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLNetForgetting.sln"))) return dir.FullName;
        throw new AssertInconclusiveException("MLNetForgetting.sln not found above " + AppContext.BaseDirectory);
    }

    // README.md, docs/*.md, benchmarks/results/*.md and the READMEs of examples, tools and python.
    private static IEnumerable<string> Pages(string root) =>
        new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md"))
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "benchmarks", "results"), "*.md"))
            .Concat(new[] { "examples", "tools", "python" }.SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "README.md", SearchOption.AllDirectories)))
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Order(StringComparer.Ordinal);

    /// <summary>GitHub's anchors for the headings of a Markdown file (lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats).</summary>
    internal static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in Fence.Replace(markdown, "").Split('\n'))
        {
            var m = Regex.Match(line.TrimEnd('\r'), @"^#{1,6} (.*)$");
            if (!m.Success) continue;
            var slug = string.Concat(m.Groups[1].Value.Trim().ToLowerInvariant()
                .Where(c => char.IsLetterOrDigit(c) || c is '_' or '-' or ' ')).Replace(' ', '-');
            int n = seen.GetValueOrDefault(slug);
            seen[slug] = n + 1;
            anchors.Add(n == 0 ? slug : $"{slug}-{n}");
        }
        return anchors;
    }

    [TestMethod]
    public void Every_link_of_the_documentation_resolves_inside_the_repository()
    {
        string root = Root();
        var broken = new List<string>();
        int links = 0;
        foreach (var page in Pages(root))
        {
            string text = Fence.Replace(File.ReadAllText(page), "");
            foreach (Match m in Link.Matches(text))
            {
                string target = m.Groups[1].Value;
                if (Regex.IsMatch(target, "^[a-z]+:")) continue;   // http:, https:, mailto:
                links++;
                int hash = target.IndexOf('#');
                string path = hash < 0 ? target : target[..hash], anchor = hash < 0 ? "" : target[(hash + 1)..];
                string dest = path.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, path));
                string where = $"{Path.GetRelativePath(root, page)}: {target}";
                if (!dest.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) broken.Add(where + " (outside the repository)");
                else if (!File.Exists(dest) && !Directory.Exists(dest)) broken.Add(where + " (no such file)");
                else if (anchor.Length > 0 && dest.EndsWith(".md", StringComparison.Ordinal) && !Anchors(File.ReadAllText(dest)).Contains(anchor))
                    broken.Add(where + " (no such section)");
            }
        }
        Assert.IsGreaterThan(20, links, "the link scan found almost no links: is the regular expression still right?");
        Assert.IsEmpty(broken, "broken documentation links:\n" + string.Join("\n", broken));
    }

    [TestMethod]
    public void The_documentation_speaks_without_issue_numbers_or_paths_outside_the_repository()
    {
        string root = Root();
        var found = new List<string>();
        var pages = new[] { Path.Combine(root, "README.md") }.Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md"));
        foreach (var page in pages)
        {
            var lines = File.ReadAllLines(page);
            for (int i = 0; i < lines.Length; i++)
                if (Regex.IsMatch(lines[i], @"\b[Ii]ssues? #?\d+|(^|[\s(])#\d+\b|\(branch [\w-]+|shared/docs"))
                    found.Add($"{Path.GetRelativePath(root, page)}:{i + 1}: {lines[i].Trim()}");
        }
        Assert.IsEmpty(found, "say it in plain words (a reader of the repository has no issue tracker or branch), and link only inside the repository:\n" + string.Join("\n", found));
    }

    [TestMethod]
    public void Code_comments_cite_sections_of_docs_methods_md_that_exist()
    {
        string root = Root();
        var sections = Regex.Matches(File.ReadAllText(Path.Combine(root, "docs", "methods.md")), @"(?m)^#{2,3} (\d+(?:\.\d+)?)[ .]")
            .Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var wrong = new List<string>();
        int citations = 0;
        foreach (var file in new[] { "src", "tests" }.SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*.cs", SearchOption.AllDirectories)))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.EndsWith(nameof(DocumentationTests) + ".cs", StringComparison.Ordinal)) continue;
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
                foreach (Match m in Regex.Matches(lines[i], @"methods\.md §(\d+(?:\.\d+)?)"))
                {
                    citations++;
                    if (!sections.Contains(m.Groups[1].Value) || !lines[i].Contains("docs/methods.md"))
                        wrong.Add($"{Path.GetRelativePath(root, file)}:{i + 1}: {m.Value}");
                }
        }
        Assert.IsGreaterThan(10, citations, "no citations found: is the pattern still right?");
        Assert.IsEmpty(wrong, $"citations of a section docs/methods.md does not have ({string.Join(", ", sections.Order())}), or without the docs/ path:\n" + string.Join("\n", wrong));
    }
}
