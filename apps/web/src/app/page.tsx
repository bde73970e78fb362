import { redirect } from "next/navigation";
import { currentSession } from "@/server/auth";
import { Shell } from "@/components/Shell";
import { ContainersView } from "@/components/ContainersView";

export const dynamic = "force-dynamic";

export default async function ContainersPage() {
  const session = await currentSession();
  if (!session) redirect("/login");
  return (
    <Shell user={session.user} page="containers">
      <ContainersView />
    </Shell>
  );
}
