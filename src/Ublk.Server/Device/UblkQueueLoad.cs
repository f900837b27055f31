namespace Ublk.Server.Device;

/// <summary>One queue's load at a moment (see <see cref="UblkDevice.QueueLoads"/>).</summary>
/// <param name="Queue">The queue id (0-based).</param>
/// <param name="InFlight">Requests the queue has handed to the backend and not yet completed.</param>
/// <param name="Depth">The queue's configured depth: the most requests it has at once.</param>
public readonly record struct UblkQueueLoad(int Queue, int InFlight, int Depth);
