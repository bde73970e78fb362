import { redirect } from "next/navigation";
import { currentSession } from "@/server/auth";
import { Shell } from "@/components/Shell";
import { HostTimeline } from "@/components/HostTimeline";

export const dynamic = "force-dynamic";

export default async function TimelinePage() {
  const session = await currentSession();
  if (!session) redirect("/login?next=/timeline");
  return (
    <Shell user={session.user} page="timeline">
      <HostTimeline />
    </Shell>
  );
}
