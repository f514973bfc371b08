using System.Text;

namespace RxHttp.Fuzz;

/// <summary>
/// One parser or decoder under fuzzing. <see cref="Execute"/> runs the code on an input and checks the target's own
/// invariants (a valid input parsed whole equals the same input parsed split, round trips), returning a short
/// signature of what happened; the documented exceptions (<see cref="Allowed"/>) are expected outcomes, anything else
/// thrown is a crash.
/// </summary>
public abstract class FuzzTarget
{
    public abstract string Name { get; }

    /// <summary>The exception types the code documents for bad input (subclasses included).</summary>
    public abstract Type[] Allowed { get; }

    /// <summary>Hand-written inputs, valid and nearly valid, the mutations start from.</summary>
    public abstract IReadOnlyList<byte[]> Seeds { get; }

    /// <summary>Byte strings the mutator splices in (the grammar's delimiters and keywords).</summary>
    public virtual IReadOnlyList<byte[]> Tokens => [];

    /// <summary>Most bytes one execution may allocate on its thread: beyond this, the allocation is unbounded.</summary>
    public virtual long AllocationBudget(int inputLength) => 32L * 1024 * 1024 + 512L * inputLength;

    /// <summary>Runs the code under test; throws <see cref="InvariantViolation"/> when an invariant breaks.</summary>
    protected abstract string Execute(byte[] input);

    /// <summary>
    /// One execution: the signature of the outcome ("E:" and the exception type for a documented rejection). Any other
    /// exception, an invariant violation or an allocation over budget propagates as a crash.
    /// </summary>
    public string Run(byte[] input)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        string signature;
        try
        {
            signature = Execute(input);
        }
        catch (Exception e) when (IsAllowed(e))
        {
            signature = Rejection(e);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > AllocationBudget(input.Length))
            throw new InvariantViolation($"{Name}: one execution allocated {allocated} bytes for a {input.Length}-byte input");
        return signature;
    }

    // The type and the message without its numbers: distinct rejections count as distinct outcomes for the driver.
    protected static string Rejection(Exception e)
    {
        var text = e is InvalidUrl { Description: { } description } ? description : e.Message;
        var cut = text.IndexOfAny(['\'', '"', '<', '[']);
        var message = new string((cut < 0 ? text : text[..cut]).Where(c => !char.IsDigit(c)).Take(40).ToArray());
        return "E:" + e.GetType().Name + ":" + message;
    }

    public bool IsAllowed(Exception e) => e is not InvariantViolation && Allowed.Any(t => t.IsInstanceOfType(e));

    protected static byte[] B(string latin1) => Encoding.Latin1.GetBytes(latin1);
    protected static string Latin1(byte[] input) => Encoding.Latin1.GetString(input);

    /// <summary>
    /// Offsets at which to split an input for the whole-versus-split check: every one for short inputs, else the
    /// first and last 8 and 16 spread between, chosen from the input itself so the choice is repeatable.
    /// </summary>
    protected static IEnumerable<int> SplitPoints(int length)
    {
        if (length <= 64)
        {
            for (var i = 1; i < length; i++) yield return i;
            yield break;
        }
        for (var i = 1; i <= 8; i++) yield return i;
        for (var i = 1; i <= 16; i++) yield return (int)((long)length * i / 17);
        for (var i = 8; i >= 1; i--) yield return length - i;
    }

    /// <summary>Fails the execution when a split result differs from the whole one.</summary>
    protected void Same(string whole, string split, int offset)
    {
        if (whole != split)
            throw new InvariantViolation($"{Name}: parsed whole gives\n  {Clip(whole)}\nbut split at {offset} gives\n  {Clip(split)}");
    }

    private static string Clip(string s) => s.Length > 400 ? s[..400] + "…" : s;

    /// <summary>Runs <paramref name="parse"/>, turning a documented exception into a result so whole and split compare.</summary>
    protected string Outcome(Func<string> parse)
    {
        try
        {
            return parse();
        }
        catch (Exception e) when (IsAllowed(e))
        {
            return Rejection(e);
        }
    }
}

/// <summary>A fuzz invariant broke: always a crash, never one of a target's documented exceptions.</summary>
public sealed class InvariantViolation(string message) : Exception(message);
