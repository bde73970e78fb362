import { redirect } from "next/navigation";
import { currentSession } from "@/server/auth";
import { parseTimelineView } from "@/lib/view-url";
import { Shell } from "@/components/Shell";
import { HostTimeline } from "@/components/HostTimeline";

export const dynamic = "force-dynamic";

export default async function TimelinePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const session = await currentSession();
  if (!session) redirect("/login?next=/timeline");
  return (
    <Shell user={session.user} page="timeline">
      <HostTimeline initial={parseTimelineView(await searchParams)} />
    </Shell>
  );
}
