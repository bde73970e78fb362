import { redirect } from "next/navigation";
import { currentSession } from "@/server/auth";
import { parseContainersView } from "@/lib/view-url";
import { Shell } from "@/components/Shell";
import { ContainersView } from "@/components/ContainersView";

export const dynamic = "force-dynamic";

export default async function ContainersPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const session = await currentSession();
  if (!session) redirect("/login");
  return (
    <Shell user={session.user} page="containers">
      <ContainersView initial={parseContainersView(await searchParams)} />
    </Shell>
  );
}
